import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";

describe.each(backendNames())("register, sign in, sessions, sign out (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("registers a user, signs them in with a cookie, and /me returns the public user only", async () => {
    const { cookie, res } = await h.register("Alice", GOOD_PASSWORD, "Alice@Example.COM");
    expect(res.statusCode).toBe(201);
    const user = res.json().user;
    expect(user).toMatchObject({ username: "Alice", email: "Alice@Example.COM", role: "user", blocked: false, emailVerified: false });
    expect(Object.keys(user).sort()).toEqual(["blocked", "createdAt", "email", "emailVerified", "id", "lastLoginAt", "mfa", "role", "username"]);
    expect(res.body).not.toContain("$argon2");

    const me = await h.request({ method: "GET", url: "/api/auth/me", cookie });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(user.id);
    expect(me.headers["cache-control"]).toBe("no-store");
  });

  it("signs in by username in any case and with surrounding spaces, and by email", async () => {
    await h.register("bob", GOOD_PASSWORD, "bob@example.test");
    for (const login of ["bob", "BOB", "  Bob ", "BOB@EXAMPLE.TEST", "bob@example.test"]) {
      const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: login, password: GOOD_PASSWORD } });
      expect(res.statusCode, login).toBe(200);
      expect(res.json().user.username).toBe("bob");
    }
  });

  it("refuses a second account whose username differs only in case (409)", async () => {
    await h.register("carol");
    const res = await h.request({ method: "POST", url: "/api/auth/register", json: { username: "CAROL", password: GOOD_PASSWORD } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: expect.any(String), code: "username_taken", fields: ["username"] });
  });

  it("refuses a second account with the same email after lower-casing (409)", async () => {
    await h.register("dave", GOOD_PASSWORD, "dave@example.test");
    const res = await h.request({
      method: "POST",
      url: "/api/auth/register",
      json: { username: "dave2", password: GOOD_PASSWORD, email: " DAVE@Example.test " },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("email_taken");
  });

  it("lists sessions with the current one marked, and revokes another one", async () => {
    const first = await h.register("erin");
    const second = await h.login("erin");
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie: second.cookie });
    expect(list.statusCode).toBe(200);
    const sessions = list.json().sessions as { id: string; current: boolean }[];
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const other = sessions.find((s) => !s.current)!;
    expect(Object.keys(other).sort()).toEqual(["aal", "amr", "createdAt", "current", "expiresAt", "id", "ip", "lastSeenAt", "userAgent"]);
    expect(other).toMatchObject({ aal: "aal1", amr: ["pwd"] });

    const del = await h.request({ method: "DELETE", url: `/api/account/sessions/${other.id}`, cookie: second.cookie });
    expect(del.statusCode).toBe(204);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: first.cookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: second.cookie })).statusCode).toBe(200);
  });

  it("revokes all other sessions but keeps the current one", async () => {
    const a = await h.register("frank");
    const b = await h.login("frank");
    const c = await h.login("frank");
    const res = await h.request({ method: "DELETE", url: "/api/account/sessions", cookie: c.cookie });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revoked: 2 });
    for (const old of [a, b]) expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: old.cookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: c.cookie })).statusCode).toBe(200);
  });

  it("IDOR: a user cannot revoke another user's session (404, and it stays valid)", async () => {
    const victim = await h.register("grace");
    const attacker = await h.register("mallory");
    const victimSessions = (await h.request({ method: "GET", url: "/api/account/sessions", cookie: victim.cookie })).json().sessions;
    const res = await h.request({ method: "DELETE", url: `/api/account/sessions/${victimSessions[0].id}`, cookie: attacker.cookie });
    expect(res.statusCode).toBe(404);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victim.cookie })).statusCode).toBe(200);
  });

  it("logout deletes the session server-side, expires the cookie and sends Clear-Site-Data", async () => {
    const { cookie } = await h.register("heidi");
    const res = await h.request({ method: "POST", url: "/api/auth/logout", cookie });
    expect(res.statusCode).toBe(204);
    const cleared = res.cookies.find((c) => c.name === "gatehouse_session")!;
    expect(cleared.value).toBe("");
    expect(cleared.maxAge).toBe(0);
    expect(res.headers["clear-site-data"]).toContain('"cookies"');
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
  });

  it("GET /api/auth/logout is 405, not a state change", async () => {
    const { cookie } = await h.register("ivan");
    const res = await h.request({ method: "GET", url: "/api/auth/logout", cookie });
    expect(res.statusCode).toBe(405);
    expect(res.json().code).toBe("method_not_allowed");
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(200);
  });

  it("password change revokes every other session, rotates the current one, and the new password works", async () => {
    const other = await h.register("judy");
    const current = await h.login("judy");
    const newPassword = "velvet-harbor-compass-77";
    const res = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie: current.cookie,
      json: { currentPassword: GOOD_PASSWORD, newPassword },
    });
    expect(res.statusCode).toBe(204);
    const rotated = sessionCookieFrom(res)!;
    expect(rotated).toBeTruthy();
    expect(rotated).not.toBe(current.cookie);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: other.cookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: current.cookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: rotated })).statusCode).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: "judy", password: GOOD_PASSWORD } })).statusCode).toBe(401);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: "judy", password: newPassword } })).statusCode).toBe(200);
  });

  it("password change with a wrong current password is 403 and changes nothing", async () => {
    const { cookie } = await h.register("ken");
    const res = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie,
      json: { currentPassword: "not-the-password-1", newPassword: "velvet-harbor-compass-77" },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("invalid_password");
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(200);
  });

  it("password change without currentPassword is 400", async () => {
    const { cookie } = await h.register("leo");
    const res = await h.request({ method: "POST", url: "/api/account/password", cookie, json: { newPassword: "velvet-harbor-compass-77" } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "invalid_request", fields: ["currentPassword"] });
  });

  it("account deletion needs the password, then removes the user and all their sessions", async () => {
    const a = await h.register("mike");
    const b = await h.login("mike");
    const wrong = await h.request({ method: "DELETE", url: "/api/account", cookie: a.cookie, json: { password: "wrong-password-123" } });
    expect(wrong.statusCode).toBe(403);
    const res = await h.request({ method: "DELETE", url: "/api/account", cookie: a.cookie, json: { password: GOOD_PASSWORD } });
    expect(res.statusCode).toBe(204);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: b.cookie })).statusCode).toBe(401);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: "mike", password: GOOD_PASSWORD } })).statusCode).toBe(401);
    const again = await h.request({ method: "POST", url: "/api/auth/register", json: { username: "mike", password: GOOD_PASSWORD } });
    expect(again.statusCode).toBe(201);
  });

  it("a blocked user gets 403 account_blocked only with the right password, and their sessions stop working", async () => {
    const { cookie, res } = await h.register("nina");
    const id = res.json().user.id as string;
    await h.gh.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", id).execute();
    h.gh.sessions.forgetUser(id);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
    const wrong = await h.request({ method: "POST", url: "/api/auth/login", json: { username: "nina", password: "wrong-password-123" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe("invalid_credentials");
    const right = await h.request({ method: "POST", url: "/api/auth/login", json: { username: "nina", password: GOOD_PASSWORD } });
    expect(right.statusCode).toBe(403);
    expect(right.json().code).toBe("account_blocked");
    expect(sessionCookieFrom(right)).toBeNull();
  });

  it("records audit events for register, login success and failure", async () => {
    const { res } = await h.register("olga");
    const id = res.json().user.id as string;
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: "olga", password: "wrong-password-123" } });
    await h.login("olga");
    const events = await h.gh.stores.audit.list({ userId: id, limit: 10 });
    expect(events.map((e) => e.type).sort()).toEqual(["login_failure", "login_success", "register"]);
    expect(JSON.stringify(events)).not.toContain("wrong-password-123");
  });

  it("records logout and session_revoked events, without the token", async () => {
    const a = await h.register("pete");
    const id = (await h.request({ method: "GET", url: "/api/auth/me", cookie: a.cookie })).json().user.id as string;
    const b = await h.login("pete");
    const c = await h.login("pete");
    const other = (await h.request({ method: "GET", url: "/api/account/sessions", cookie: c.cookie })).json().sessions.find(
      (s: { current: boolean }) => !s.current,
    );
    await h.request({ method: "DELETE", url: `/api/account/sessions/${other.id}`, cookie: c.cookie });
    await h.request({ method: "DELETE", url: "/api/account/sessions", cookie: c.cookie });
    await h.request({ method: "POST", url: "/api/auth/logout", cookie: c.cookie });
    const events = await h.gh.stores.audit.list({ userId: id, limit: 20 });
    expect(events.filter((e) => e.type === "session_revoked")).toHaveLength(2);
    expect(events.filter((e) => e.type === "logout")).toHaveLength(1);
    const dump = JSON.stringify(events);
    for (const cookie of [a.cookie, b.cookie, c.cookie]) expect(dump).not.toContain(cookie.split("=")[1]);
  });

  it("records password_change and user_deleted with the request id of the request that caused them", async () => {
    const { cookie, res } = await h.register("quinn");
    const id = res.json().user.id as string;
    const newPassword = "orbit-meadow-lantern-58";
    const change = await h.request({ method: "POST", url: "/api/account/password", cookie, json: { currentPassword: GOOD_PASSWORD, newPassword } });
    const rotated = sessionCookieFrom(change)!;
    const del = await h.request({ method: "DELETE", url: "/api/account", cookie: rotated, json: { password: newPassword } });
    expect(del.statusCode).toBe(204);
    const events = await h.gh.stores.audit.list({ userId: id, limit: 20 });
    const changed = events.find((e) => e.type === "password_change")!;
    const deleted = events.find((e) => e.type === "user_deleted")!;
    expect(changed.requestId).toBe(change.headers["x-request-id"]);
    expect(deleted.requestId).toBe(del.headers["x-request-id"]);
    expect(deleted.actorId).toBe(id);
    expect(JSON.stringify(events)).not.toContain(newPassword);
  });

  it("/healthz and /readyz answer", async () => {
    expect((await h.request({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await h.request({ method: "GET", url: "/readyz" })).json()).toEqual({ status: "ready" });
  });
});
