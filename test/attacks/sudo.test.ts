import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";

const MIN = 60_000;

describe.each(backendNames())("attack: sensitive actions on a stolen, stale session need re-authentication (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  const me = (cookie: string) => h.request({ method: "GET", url: "/api/auth/me", cookie });

  it("a session last authenticated 11 minutes ago cannot change the password or delete the account (403 reauth_required)", async () => {
    const { cookie } = await h.register(`sudo${Date.now() % 100000}a`);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * MIN);
      expect((await me(cookie)).statusCode).toBe(200);
    }
    const change = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie,
      json: { currentPassword: GOOD_PASSWORD, newPassword: "harbor-violet-engine-31" },
    });
    expect(change.statusCode).toBe(403);
    expect(change.json().code).toBe("reauth_required");
    const del = await h.request({ method: "DELETE", url: "/api/account", cookie, json: { password: GOOD_PASSWORD } });
    expect(del.statusCode).toBe(403);
    expect(del.json().code).toBe("reauth_required");
    expect((await me(cookie)).statusCode).toBe(200);
  });

  it("POST /api/auth/reauth with the password rotates the session (fixation) and opens a 10-minute window", async () => {
    const { cookie } = await h.register(`sudo${Date.now() % 100000}b`);
    h.clock.advance(11 * MIN);
    await me(cookie);
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBe(204);
    const fresh = sessionCookieFrom(reauth)!;
    expect(fresh).not.toBe(cookie);
    expect((await me(cookie)).statusCode).toBe(401);
    const change = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie: fresh,
      json: { currentPassword: GOOD_PASSWORD, newPassword: "harbor-violet-engine-31" },
    });
    expect(change.statusCode).toBe(204);
  });

  it("a wrong re-authentication password is 403 invalid_password and leaves the window closed", async () => {
    const { cookie } = await h.register(`sudo${Date.now() % 100000}c`);
    h.clock.advance(11 * MIN);
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: "not-my-password-9" } });
    expect(reauth.statusCode).toBe(403);
    expect(reauth.json().code).toBe("invalid_password");
    const del = await h.request({ method: "DELETE", url: "/api/account", cookie, json: { password: GOOD_PASSWORD } });
    expect(del.json().code).toBe("reauth_required");
  });

  it("admin sessions idle out after 15 minutes while user sessions last 30", async () => {
    const admin = await h.register(`sudo${Date.now() % 100000}adm`);
    const user = await h.register(`sudo${Date.now() % 100000}usr`);
    const id = admin.res.json().user.id as string;
    await h.gh.database.db.updateTable("users").set({ role: "admin" }).where("id", "=", id).execute();
    h.gh.sessions.forgetUser(id);
    h.clock.advance(16 * MIN);
    expect((await me(admin.cookie)).statusCode).toBe(401);
    expect((await me(user.cookie)).statusCode).toBe(200);
  });
});
