import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { WebClient } from "../helpers/web-client.js";

const DAY = 86_400_000;
const PENDING = "gatehouse_pending";

/** A harness with the second-factor double and its remover registered. */
async function policyHarness(backend: Parameters<typeof startHarness>[0], env: Record<string, string>) {
  const factors = secondFactorDouble();
  const h = await startHarness(backend, env, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
  h.gh.secondFactorRemovers.register(factors.remover);

  /** A session of `name` signed in with password and the (test) code: aal2. */
  async function signInWithCode(name: string): Promise<string> {
    const first = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });
    expect(first.json()).toMatchObject({ mfa_required: true });
    // Under an https PUBLIC_URL the cookie carries the __Host- prefix.
    const pending = first.cookies.find((c) => c.name.endsWith(PENDING));
    const res = await h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method: "totp", code: TEST_CODE }, cookie: `${pending?.name}=${pending?.value}` });
    expect(res.statusCode).toBe(200);
    return sessionCookieFrom(res) as string;
  }

  /** An account of `role` with the (test) TOTP factor and an aal2 session. */
  async function enrolledAccount(role: Role) {
    const account = await h.account(role);
    factors.enrolled.add(account.id);
    return { ...account, cookie: await signInWithCode(account.name) };
  }
  return { h, factors, signInWithCode, enrolledAccount };
}

const adminApi = (h: Harness, cookie: string) => h.request({ method: "GET", url: "/api/admin/users", cookie });
const codeOf = (res: LightMyRequestResponse): unknown => (String(res.headers["content-type"]).startsWith("application/json") ? (res.json() as { code?: unknown }).code : undefined);

describe.each(backendNames())("AZ-06: MFA_REQUIRED=admins (%s)", (backend) => {
  let t: Awaited<ReturnType<typeof policyHarness>>;
  beforeAll(async () => {
    t = await policyHarness(backend, { MFA_REQUIRED: "admins" });
  });
  afterAll(async () => t?.h.close());

  it("an admin without a second factor: the admin API answers 403 mfa_enrollment_required; their own account still works", async () => {
    const { h } = t;
    for (const role of ["admin", "superadmin"] as const) {
      const admin = await h.account(role);
      const res = await adminApi(h, admin.cookie);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: "Set up a second factor before using administrator functions", code: "mfa_enrollment_required" });
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: admin.cookie })).statusCode).toBe(200);
    }
    const superadmin = await h.account("superadmin");
    expect(codeOf(await h.request({ method: "GET", url: "/api/admin/settings", cookie: superadmin.cookie }))).toBe("mfa_enrollment_required");
  });

  it("the dashboard sends an admin without a second factor to the page where they add one", async () => {
    const { h } = t;
    const admin = await h.account("admin");
    for (const path of ["/admin", "/admin/users", "/admin/audit"]) {
      const res = await h.request({ method: "GET", url: path, cookie: admin.cookie });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe("/account/mfa?notice=mfa_enrollment_required");
    }
  });

  it("after enrolling (and signing in with the factor) the same admin gets 200", async () => {
    const { h, factors, signInWithCode } = t;
    const admin = await h.account("admin");
    expect((await adminApi(h, admin.cookie)).statusCode).toBe(403);
    factors.enrolled.add(admin.id);
    const cookie = await signInWithCode(admin.name);
    expect((await adminApi(h, cookie)).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/admin", cookie })).statusCode).toBe(200);
  });

  it("an admin who has a factor, on a session opened without it (aal1): 401 mfa_required, the dashboard sends to the step-up page, and a right code opens it", async () => {
    const { h, factors } = t;
    const admin = await h.account("admin");
    factors.enrolled.add(admin.id);
    const res = await adminApi(h, admin.cookie);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("mfa_required");
    const page = await h.request({ method: "GET", url: "/admin/users?q=x", cookie: admin.cookie });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe(`/login/second-factor?return=${encodeURIComponent("/admin/users?q=x")}`);
    // The step-up (a second factor given by the signed-in session) rotates it to aal2: the admin API opens.
    const stepped = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: admin.cookie, json: { method: "totp", code: TEST_CODE } });
    expect(stepped.statusCode).toBe(200);
    const cookie = sessionCookieFrom(stepped) ?? "";
    expect((await adminApi(h, cookie)).statusCode).toBe(200);
    expect((await adminApi(h, admin.cookie)).statusCode).toBe(401);
  });

  it("API tokens: an admin:read token of an admin without a factor is refused the same way; once the owner has one, it works", async () => {
    const { h, factors } = t;
    const admin = await h.account("admin");
    const made = await h.request({ method: "POST", url: "/api/account/tokens", cookie: admin.cookie, json: { name: "ci", scopes: ["admin:read"] } });
    expect(made.statusCode).toBe(201);
    const authorization = `Bearer ${made.json().secret as string}`;
    const refused = await h.request({ method: "GET", url: "/api/admin/users", headers: { authorization } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("mfa_enrollment_required");
    factors.enrolled.add(admin.id);
    expect((await h.request({ method: "GET", url: "/api/admin/users", headers: { authorization } })).statusCode).toBe(200);
  });

  it("plain users are not concerned: their account routes work without a factor", async () => {
    const { h } = t;
    const user = await h.account("user");
    expect((await h.request({ method: "GET", url: "/api/account/sessions", cookie: user.cookie })).statusCode).toBe(200);
    expect(await h.gh.mfaPolicy.mayRemoveFactor({ id: user.id, role: "user" }, "totp")).toBe(true);
  });

  it("MFA-08: an admin's only factor cannot be removed (409 last_second_factor through the core check)", async () => {
    const { h, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const err = await h.gh.mfaPolicy.assertMayRemove({ id: admin.id, role: "admin" }, "totp").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, code: "last_second_factor" });
  });
});

describe.each(backendNames())("AZ-06: the grace period, with a manual clock (%s)", (backend) => {
  let t: Awaited<ReturnType<typeof policyHarness>>;
  beforeAll(async () => {
    t = await policyHarness(backend, { MFA_REQUIRED: "admins", MFA_GRACE_PERIOD: "7d" });
  });
  afterAll(async () => t?.h.close());

  it("a new admin works for 7 days from the account's creation, told by a header and a banner to add a factor; then refused", async () => {
    const { h } = t;
    const admin = await h.account("admin");
    const due = new Date(h.clock.now() + 7 * DAY).toISOString();
    const res = await adminApi(h, admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers["gatehouse-mfa-enroll-by"]).toBe(due);
    const page = await h.request({ method: "GET", url: "/admin", cookie: admin.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`data-mfa-grace="${due}"`);
    expect(page.body).toContain('href="/account/mfa"');

    h.clock.advance(7 * DAY - 60_000);
    const { cookie } = await h.login(admin.name);
    expect((await adminApi(h, cookie)).statusCode).toBe(200);
    h.clock.advance(60_000);
    const late = await adminApi(h, cookie);
    expect(late.statusCode).toBe(403);
    expect(late.json().code).toBe("mfa_enrollment_required");
    expect(late.headers["gatehouse-mfa-enroll-by"]).toBeUndefined();
  });

  it("an admin with a factor gets no grace header", async () => {
    const { h, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const res = await adminApi(h, admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers["gatehouse-mfa-enroll-by"]).toBeUndefined();
  });
});

describe.each(backendNames())("MFA_REQUIRED=everyone and =off (%s)", (backend) => {
  let everyone: Awaited<ReturnType<typeof policyHarness>>;
  let off: Awaited<ReturnType<typeof policyHarness>>;
  beforeAll(async () => {
    everyone = await policyHarness(backend, { MFA_REQUIRED: "everyone" });
    off = await policyHarness(backend, { MFA_REQUIRED: "off" });
  });
  afterAll(async () => {
    await everyone?.h.close();
    await off?.h.close();
  });

  it("everyone: admins are refused like under admins, and a plain user's last factor cannot be removed either", async () => {
    const { h, enrolledAccount } = everyone;
    expect(codeOf(await adminApi(h, (await h.account("admin")).cookie))).toBe("mfa_enrollment_required");
    const user = await enrolledAccount("user");
    expect(await h.gh.mfaPolicy.mayRemoveFactor({ id: user.id, role: "user" }, "totp")).toBe(false);
    // A user signs in and uses their account as before (only administrator functions are gated).
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).statusCode).toBe(200);
  });

  it("off: an admin without a factor uses the admin API and the dashboard; their last factor may go", async () => {
    const { h, factors } = off;
    const admin = await h.account("superadmin");
    expect((await adminApi(h, admin.cookie)).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/admin", cookie: admin.cookie })).statusCode).toBe(200);
    factors.enrolled.add(admin.id);
    // Even an aal1 session of an admin who has a factor: nothing is required.
    expect((await adminApi(h, admin.cookie)).statusCode).toBe(200);
    expect(await h.gh.mfaPolicy.mayRemoveFactor({ id: admin.id, role: "superadmin" }, "totp")).toBe(true);
  });
});

describe.each(backendNames())("resetting a user's second factors (%s)", (backend) => {
  let t: Awaited<ReturnType<typeof policyHarness>>;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await policyHarness(backend, { MFA_REQUIRED: "admins", SMTP_URL: sink.url, PUBLIC_URL: "https://auth.example.test" });
  });
  afterAll(async () => {
    await t?.h.close();
    await sink?.stop();
  });

  const reset = (id: string, cookie: string) => t.h.request({ method: "DELETE", url: `/api/admin/users/${id}/mfa`, cookie });

  it("DELETE /api/admin/users/:id/mfa: the factors are gone, every session ended, mfa_reset audited, the user mailed; they sign in with the password alone", async () => {
    const { h, factors, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const user = await enrolledAccount("user");
    const res = await reset(user.id, admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ methods: ["totp"], sessionsEnded: 2 });
    expect(factors.enrolled.has(user.id)).toBe(false);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).statusCode).toBe(401);
    const [event] = await h.gh.stores.audit.list({ userId: user.id, type: "mfa_reset", limit: 5 });
    expect(event).toMatchObject({ actorId: admin.id, userId: user.id, details: { methods: "totp", sessions: 2 } });
    await h.gh.mail.flush();
    const mails = sink.to(`${user.name}@example.test`);
    expect(mails.map((m) => m.subject)).toContain("The second factors of your Gatehouse account were reset");
    const again = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD } });
    expect(again.statusCode).toBe(200);
    expect(again.json().user.id).toBe(user.id);
  });

  it("an admin cannot reset another admin, a superadmin or themself (403 forbidden, factors kept); a superadmin resets an admin", async () => {
    const { factors, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const other = await enrolledAccount("admin");
    const sup = await enrolledAccount("superadmin");
    for (const target of [other, sup, admin]) {
      const res = await reset(target.id, admin.cookie);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe("forbidden");
      expect(factors.enrolled.has(target.id)).toBe(true);
    }
    expect((await reset(other.id, sup.cookie)).statusCode).toBe(200);
    expect(factors.enrolled.has(other.id)).toBe(false);
  });

  it("needs a recent re-authentication (403 reauth_required), then works after POST /api/auth/reauth; unknown user 404", async () => {
    const { h, factors, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const user = await enrolledAccount("user");
    h.clock.advance(11 * 60_000);
    const stale = await reset(user.id, admin.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    expect(factors.enrolled.has(user.id)).toBe(true);
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: admin.cookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBeLessThan(300);
    const cookie = sessionCookieFrom(reauth) ?? admin.cookie;
    expect((await reset(user.id, cookie)).statusCode).toBe(200);
    expect((await reset("00000000-0000-4000-8000-000000000000", cookie)).statusCode).toBe(404);
  });

  it("API tokens cannot reset (session only), and an admin without a factor cannot either (mfa_enrollment_required)", async () => {
    const { h, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const user = await enrolledAccount("user");
    const made = await h.request({ method: "POST", url: "/api/account/tokens", cookie: admin.cookie, json: { name: "w", scopes: ["admin:write"] } });
    const res = await h.request({ method: "DELETE", url: `/api/admin/users/${user.id}/mfa`, headers: { authorization: `Bearer ${made.json().secret as string}` } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("forbidden");
    const bare = await h.account("admin");
    expect(codeOf(await reset(user.id, bare.cookie))).toBe("mfa_enrollment_required");
  });

  it("the admin user page lists the user's second factors and resets them with the button", async () => {
    const { h, factors, enrolledAccount } = t;
    const admin = await enrolledAccount("admin");
    const user = await enrolledAccount("user");
    const browser = new WebClient(h);
    const [k, v] = admin.cookie.split("=") as [string, string];
    browser.jar.set(k, v);
    const page = await browser.get(`/admin/users/${user.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-factors="totp"');
    expect(page.body).toContain("Authenticator app (TOTP)");
    expect(page.body).toContain(`action="/admin/users/${user.id}/mfa/reset"`);
    const done = await browser.post(`/admin/users/${user.id}/mfa/reset`, {});
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/admin/users/${user.id}?notice=user_mfa_reset`);
    expect(factors.enrolled.has(user.id)).toBe(false);
    const after = await browser.get(String(done.headers.location));
    expect(after.body).toContain('data-factors="none"');
    expect(after.body).toContain("Every second factor of that user was removed");
    // Their own page has no reset button.
    expect((await browser.get(`/admin/users/${admin.id}`)).body).not.toContain("/mfa/reset");
  });
});

describe.each(backendNames())("the first superadmin under the shipped default (%s)", (backend) => {
  let t: Awaited<ReturnType<typeof policyHarness>>;
  beforeAll(async () => {
    // "" restores the shipped default (admins) over the harness's `off`.
    t = await policyHarness(backend, { MFA_REQUIRED: "" });
  });
  afterAll(async () => t?.h.close());

  it("setup leads to adding a second factor; the dashboard opens once they have one and signed in with it", async () => {
    const { h, factors, signInWithCode } = t;
    const first = await h.gh.firstSuperadmin.ensure(null);
    if (first.status !== "setup") throw new Error(`expected setup, got ${first.status}`);
    const b = new WebClient(h);
    await b.get("/setup");
    const done = await b.post("/setup", { token: first.token, username: "root1", password: GOOD_PASSWORD });
    expect(done.statusCode, done.body).toBe(303);
    expect(done.headers.location).toBe("/account/mfa?notice=setup_done_add_factor");
    const dashboard = await b.get("/admin");
    expect(dashboard.statusCode).toBe(303);
    expect(dashboard.headers.location).toBe("/account/mfa?notice=mfa_enrollment_required");
    // The account page is open to them meanwhile.
    expect((await b.get("/account")).statusCode).toBe(200);
    const root = await h.gh.stores.users.findByLogin({ username: "root1" });
    factors.enrolled.add(root!.id);
    const cookie = await signInWithCode("root1");
    expect((await h.request({ method: "GET", url: "/admin", cookie })).statusCode).toBe(200);
  });
});
