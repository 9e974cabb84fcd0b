import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { secondFactorDouble } from "../helpers/second-factor-double.js";
import { WebClient } from "../helpers/web-client.js";

/**
 * AZ-06: an attacker holding an administrator's password (phished, reused) but
 * not their second factor, or an admin who never set one up, gets nothing
 * administrative — by cookie, by API token, by the dashboard's forms, or by
 * method and path tricks. Runs with the shipped default (MFA_REQUIRED unset).
 */
describe.each(backendNames())("attack: admin without a second factor uses the admin API (%s)", (backend) => {
  let h: Harness;
  const factors = secondFactorDouble();
  beforeAll(async () => {
    // The harness turns the requirement off for ordinary suites; "" restores the shipped default (admins).
    h = await startHarness(backend, { MFA_REQUIRED: "" }, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
  });
  afterAll(async () => h?.close());

  it("attack: admin without a second factor uses the admin API — every admin route answers 403 mfa_enrollment_required and changes nothing", async () => {
    expect(h.gh.mfaPolicy.settings.requirement).toBe("admins");
    const attacker = await h.account("superadmin");
    const victim = await h.account("user");
    const attempts = [
      { method: "GET" as const, url: "/api/admin/users" },
      { method: "GET" as const, url: `/api/admin/users/${victim.id}` },
      { method: "GET" as const, url: "/api/admin/audit" },
      { method: "GET" as const, url: "/api/admin/backup" },
      { method: "PATCH" as const, url: `/api/admin/users/${victim.id}`, json: { role: "admin" } },
      { method: "PATCH" as const, url: `/api/admin/users/${victim.id}`, json: { blocked: true } },
      { method: "DELETE" as const, url: `/api/admin/users/${victim.id}` },
      { method: "DELETE" as const, url: `/api/admin/users/${victim.id}/mfa` },
      { method: "PATCH" as const, url: "/api/admin/settings", json: { registration: "open" } },
      { method: "POST" as const, url: "/api/admin/invitations", json: { email: "evil@example.test", role: "superadmin" } },
      // Path tricks resolve to the same routes (or to nothing).
      { method: "GET" as const, url: "/api/admin//users" },
      { method: "GET" as const, url: "/api/ADMIN/users" },
      { method: "GET" as const, url: "/api/admin/users/" },
    ];
    for (const a of attempts) {
      const res = await h.request({ ...a, cookie: attacker.cookie });
      expect([403, 404], `${a.method} ${a.url}: ${res.body}`).toContain(res.statusCode);
      if (res.statusCode === 403) expect(res.json().code, `${a.method} ${a.url}`).toBe("mfa_enrollment_required");
    }
    expect(await h.gh.stores.users.findById(victim.id)).toMatchObject({ role: "user", blocked: false });
    // Not even a read was let through (admin reads are audited as admin_access).
    const reads = await h.gh.stores.audit.list({ type: "admin_access", limit: 100 });
    expect(reads.filter((e) => e.actorId === attacker.id)).toEqual([]);
  });

  it("attack: an API token minted by the admin (no second factor needed to mint one) is refused the same way", async () => {
    const attacker = await h.account("admin");
    const victim = await h.account("user");
    const made = await h.request({ method: "POST", url: "/api/account/tokens", cookie: attacker.cookie, json: { name: "side door", scopes: ["admin:write"] } });
    expect(made.statusCode).toBe(201);
    const authorization = `Bearer ${made.json().secret as string}`;
    for (const a of [
      { method: "POST" as const, url: `/api/admin/users/${victim.id}/unlock` },
      { method: "PATCH" as const, url: `/api/admin/users/${victim.id}`, json: { blocked: true } },
      { method: "DELETE" as const, url: `/api/admin/users/${victim.id}/sessions` },
    ]) {
      const res = await h.request({ ...a, headers: { authorization } });
      expect(res.statusCode, `${a.method} ${a.url}`).toBe(403);
      expect(res.json().code).toBe("mfa_enrollment_required");
    }
    expect(await h.gh.stores.users.findById(victim.id)).toMatchObject({ blocked: false });
  });

  it("attack: the dashboard's forms, posted with a valid form token, are turned away to enrolment and change nothing", async () => {
    const attacker = await h.account("admin");
    const victim = await h.account("user");
    const browser = new WebClient(h);
    const [k, v] = attacker.cookie.split("=") as [string, string];
    browser.jar.set(k, v);
    await browser.get("/account");
    for (const [path, fields] of [
      [`/admin/users/${victim.id}/block`, { blocked: "true" }],
      [`/admin/users/${victim.id}/sessions/revoke`, {}],
      [`/admin/users/${victim.id}/mfa/reset`, { password: GOOD_PASSWORD }],
      ["/admin/invitations", { email: "evil@example.test", role: "user" }],
    ] as const) {
      const res = await browser.post(path, fields);
      expect(res.statusCode, path).toBe(303);
      expect(res.headers.location, path).toBe("/account/mfa?notice=mfa_enrollment_required");
    }
    expect(await h.gh.stores.users.findById(victim.id)).toMatchObject({ blocked: false });
  });

  it("attack: a stolen password of an admin who HAS a factor gives no admin session (the sign-in stops at the factor), and an older aal1 session gets 401 mfa_required (it must step up)", async () => {
    const admin = await h.account("admin");
    // The cookie from before the factor was added: a session that never proved it.
    const older = admin.cookie;
    factors.enrolled.add(admin.id);
    const stolen = await h.request({ method: "POST", url: "/api/auth/login", json: { username: admin.name, password: GOOD_PASSWORD } });
    expect(stolen.json()).toEqual({ mfa_required: true, methods: ["totp"] });
    const res = await h.request({ method: "GET", url: "/api/admin/users", cookie: older });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("mfa_required");
  });
});
