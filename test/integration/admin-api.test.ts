import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { uname } from "../helpers/names.js";

const MIN = 60_000;

describe.each(backendNames())("admin API: roles enforced on every request (%s)", (backend) => {
  let h: Harness;
  let superCookie: string;
  let superId: string;

  const account = (role: Role, name = uname(role)) => h.account(role, name);
  const get = (url: string, cookie?: string) => h.request({ method: "GET", url, ...(cookie ? { cookie } : {}) });
  const patch = (id: string, json: unknown, cookie: string) => h.request({ method: "PATCH", url: `/api/admin/users/${id}`, json, cookie });

  beforeAll(async () => {
    h = await startHarness(backend);
    ({ cookie: superCookie, id: superId } = await account("superadmin"));
  });
  afterAll(async () => h?.close());

  it("anonymous callers get 401 and plain users 403 on every admin route", async () => {
    const user = await account("user");
    for (const url of ["/api/admin/users", `/api/admin/users/${user.id}`, `/api/admin/users/${user.id}/sessions`, "/api/admin/audit", "/api/admin/stats", "/api/admin/bans"]) {
      expect((await get(url)).statusCode, url).toBe(401);
      const res = await get(url, user.cookie);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().code).toBe("forbidden");
    }
    expect((await patch(user.id, { blocked: true }, user.cookie)).statusCode).toBe(403);
  });

  it("searches users by prefix with role and blocked filters and a total; LIKE wildcards match themselves", async () => {
    const admin = await account("admin");
    const tag = `srch${Date.now() % 100000}`;
    for (let i = 0; i < 3; i++) await account("user", `${tag}${i}`);
    const res = await get(`/api/admin/users?q=${tag.toUpperCase()}&limit=2`, admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBe(3);
    expect(res.json().users).toHaveLength(2);
    expect(JSON.stringify(res.json())).not.toContain("$argon2");
    expect((await get(`/api/admin/users?q=%25`, admin.cookie)).json().total).toBe(0);
    const admins = (await get(`/api/admin/users?role=superadmin`, admin.cookie)).json();
    expect(admins.users.every((u: { role: string }) => u.role === "superadmin")).toBe(true);
    for (const q of ["' OR '1'='1", "%' OR 1=1 --", "_"]) {
      const inj = await get(`/api/admin/users?q=${encodeURIComponent(q)}`, admin.cookie);
      expect(inj.statusCode, q).toBe(200);
      expect(inj.json().total, q).toBe(0);
    }
    expect((await get(`/api/admin/users?role=user&role=admin`, admin.cookie)).statusCode).toBe(400);
  });

  it("blocking a user ends all their sessions at once and is audited with actor and target", async () => {
    const admin = await account("admin");
    const victim = await account("user");
    const res = await patch(victim.id, { blocked: true }, admin.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.blocked).toBe(true);
    expect((await get("/api/auth/me", victim.cookie)).statusCode).toBe(401);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD } });
    expect(login.json().code).toBe("account_blocked");
    const events = await h.gh.stores.audit.list({ userId: victim.id, type: "user_blocked", limit: 5 });
    expect(events[0]?.actorId).toBe(admin.id);
    expect((await patch(victim.id, { blocked: false }, admin.cookie)).json().user.blocked).toBe(false);
  });

  it("vertical escalation: an admin cannot grant admin, touch a superadmin, or change their own role", async () => {
    const admin = await account("admin");
    const user = await account("user");
    expect((await patch(user.id, { role: "admin" }, admin.cookie)).statusCode).toBe(403);
    expect((await patch(superId, { role: "user" }, admin.cookie)).statusCode).toBe(403);
    expect((await patch(superId, { blocked: true }, admin.cookie)).statusCode).toBe(403);
    expect((await h.request({ method: "DELETE", url: `/api/admin/users/${superId}`, cookie: admin.cookie })).statusCode).toBe(403);
    expect((await patch(admin.id, { role: "superadmin" }, admin.cookie)).statusCode).toBe(403);
    expect((await get(`/api/admin/users/${user.id}`, superCookie)).json().user.role).toBe("user");
  });

  it("mass assignment: unknown or forbidden fields in PATCH are 400 and change nothing", async () => {
    const user = await account("user");
    for (const body of [{ role: "user", password: "x" }, { username: "evil" }, { emailVerified: true }, {}, { role: "root" }, { blocked: "yes" }]) {
      expect((await patch(user.id, body, superCookie)).statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it("a superadmin grants admin only with a recent re-authentication, and the promotion ends the user's sessions", async () => {
    const sup = await account("superadmin");
    const user = await account("user");
    h.clock.advance(11 * MIN);
    const stale = await patch(user.id, { role: "admin" }, sup.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: sup.cookie, json: { password: GOOD_PASSWORD } });
    const fresh = reauth.cookies.find((c) => c.name === "gatehouse_session")!;
    const ok = await patch(user.id, { role: "admin" }, `gatehouse_session=${fresh.value}`);
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user.role).toBe("admin");
    expect((await get("/api/auth/me", user.cookie)).statusCode).toBe(401);
    const events = await h.gh.stores.audit.list({ userId: user.id, type: "role_change", limit: 5 });
    expect(events[0]?.details).toEqual({ from: "user", to: "admin" });
  });

  it("a demoted admin's very next admin call fails", async () => {
    const admin = await account("admin");
    expect((await get("/api/admin/stats", admin.cookie)).statusCode).toBe(200);
    const sup = await account("superadmin");
    expect((await patch(admin.id, { role: "user" }, sup.cookie)).statusCode).toBe(200);
    expect([401, 403]).toContain((await get("/api/admin/stats", admin.cookie)).statusCode);
  });

  it("the last superadmin cannot be demoted, blocked or deleted (409)", async () => {
    const others = await h.gh.database.db.selectFrom("users").select("id").where("role", "=", "superadmin").where("id", "!=", superId).execute();
    for (const o of others) await h.gh.database.db.updateTable("users").set({ role: "user" }).where("id", "=", o.id).execute();
    // Demotion and deletion need a fresh re-authentication; the 409 must come from the last-superadmin rule itself.
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: superCookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBe(204);
    superCookie = `gatehouse_session=${reauth.cookies.find((c) => c.name === "gatehouse_session")!.value}`;
    const demote = await patch(superId, { role: "admin" }, superCookie);
    expect(demote.statusCode).toBe(409);
    expect(demote.json().code).toBe("last_superadmin");
    expect((await patch(superId, { blocked: true }, superCookie)).statusCode).toBe(403);
    const del = await h.request({ method: "DELETE", url: `/api/admin/users/${superId}`, cookie: superCookie });
    expect(del.statusCode).toBe(409);
  });

  it("lists and revokes a user's sessions; admin reads are audited as admin_access", async () => {
    const admin = await account("admin");
    const user = await account("user");
    const list = await get(`/api/admin/users/${user.id}/sessions`, admin.cookie);
    expect(list.json().sessions).toHaveLength(1);
    const del = await h.request({ method: "DELETE", url: `/api/admin/users/${user.id}/sessions`, cookie: admin.cookie });
    expect(del.json()).toEqual({ revoked: 1 });
    expect((await get("/api/auth/me", user.cookie)).statusCode).toBe(401);
    const reads = await h.gh.stores.audit.list({ userId: user.id, type: "admin_access", limit: 5 });
    expect(reads.some((e) => e.actorId === admin.id)).toBe(true);
  });

  it("pages through the audit log with filters and cursors, newest first", async () => {
    const admin = await account("admin");
    const first = await get(`/api/admin/audit?type=register&limit=2`, admin.cookie);
    expect(first.statusCode).toBe(200);
    const page1 = first.json();
    expect(page1.events).toHaveLength(2);
    expect(page1.events.every((e: { type: string; at: string }) => e.type === "register" && e.at.endsWith("Z"))).toBe(true);
    const page2 = (await get(`/api/admin/audit?type=register&limit=2&cursor=${page1.nextCursor}`, admin.cookie)).json();
    expect(page2.events[0].id).not.toBe(page1.events[0].id);
    expect(Date.parse(page2.events[0].at)).toBeLessThanOrEqual(Date.parse(page1.events[1].at));
    expect((await get(`/api/admin/audit?from=yesterday`, admin.cookie)).statusCode).toBe(400);
    expect((await get(`/api/admin/audit?cursor=bm9wZQ`, admin.cookie)).statusCode).toBe(400);
    for (const method of ["PUT", "PATCH", "DELETE"] as const) {
      expect((await h.request({ method, url: "/api/admin/audit", cookie: admin.cookie })).statusCode).toBe(405);
    }
  });

  it("stats give user and session counts and 168 hourly buckets of sign-ins and failures", async () => {
    const admin = await account("admin");
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: admin.name, password: "wrong-password-77" } });
    const stats = (await get("/api/admin/stats", admin.cookie)).json();
    expect(stats.users).toBeGreaterThan(1);
    expect(stats.activeSessions).toBeGreaterThan(0);
    expect(stats.hourly).toHaveLength(168);
    const last = stats.hourly[167];
    expect(last.failures).toBeGreaterThanOrEqual(1);
  });

  it("lists and lifts IP bans", async () => {
    const admin = await account("admin");
    await h.gh.bans.trip({ ip: "192.0.2.77", userAgent: "t", limit: "test" });
    await h.gh.limiter.ban("192.0.2.77", h.clock.now() + 3_600_000);
    const bans = (await get("/api/admin/bans", admin.cookie)).json().bans;
    expect(bans.map((b: { ip: string }) => b.ip)).toContain("192.0.2.77");
    expect((await h.request({ method: "DELETE", url: "/api/admin/bans/192.0.2.77", cookie: admin.cookie })).statusCode).toBe(204);
    expect((await h.request({ method: "DELETE", url: "/api/admin/bans/192.0.2.77", cookie: admin.cookie })).statusCode).toBe(404);
  });
});
