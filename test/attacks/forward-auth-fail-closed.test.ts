import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

describe.each(backendNames())("attack: stale or failing sessions through forward-auth (FWD-06, LOG-06) (%s)", (backend) => {
  let h: Harness;
  let admin: { cookie: string };
  let dbClosed = false;
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) });
    admin = await h.account("admin");
  });
  afterAll(async () => {
    if (dbClosed) await h.backend.cleanup();
    else await h?.close();
  });

  it("stale session: logout takes effect on the very next decision", async () => {
    const u = await h.account("user");
    expect((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/logout", cookie: u.cookie })).statusCode).toBe(204);
    expect((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/home", cookie: u.cookie, accept: "text/html" })).statusCode).toBe(302);
  });

  it("stale session: an admin revoking a user's sessions takes effect on the next decision", async () => {
    const u = await h.account("user");
    expect((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode).toBe(200);
    const res = await h.request({ method: "DELETE", url: `/api/admin/users/${u.id}/sessions`, cookie: admin.cookie, json: {} });
    expect(res.statusCode).toBeLessThan(300);
    expect((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode).toBe(401);
  });

  it("stale session: blocking a user takes effect on the next decision", async () => {
    const u = await h.account("user");
    expect((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode).toBe(200);
    const res = await h.request({ method: "PATCH", url: `/api/admin/users/${u.id}`, cookie: admin.cookie, json: { blocked: true } });
    expect(res.statusCode, res.body).toBe(200);
    expect([401, 403]).toContain((await ask(h, { uri: "/home", cookie: u.cookie })).statusCode);
  });

  it("stale privilege: a demoted admin loses the admin-only path on the next decision", async () => {
    const a = await h.account("admin");
    expect((await ask(h, { uri: "/admin", cookie: a.cookie })).statusCode).toBe(200);
    const res = await h.request({ method: "PATCH", url: `/api/admin/users/${a.id}`, cookie: (await h.account("superadmin")).cookie, json: { role: "user" } });
    expect(res.statusCode, res.body).toBe(200);
    expect([401, 403]).toContain((await ask(h, { uri: "/admin", cookie: a.cookie })).statusCode);
  });

  it("database stopped: forward-auth never answers 2xx for a session it cannot check", async () => {
    const warm = await h.account("user");
    const cold = await h.account("user");
    expect((await ask(h, { uri: "/home", cookie: warm.cookie })).statusCode).toBe(200);
    h.gh.sessions.forgetUser(cold.id);
    await h.gh.database.close();
    dbClosed = true;
    const res = await ask(h, { uri: "/home", cookie: cold.cookie });
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    expect(res.headers["remote-user"]).toBeUndefined();
    expect(res.body).not.toMatch(/sqlite|postgres|SELECT|at .*\.ts/i);
    // A cached lookup does not outlive the database for longer than the cache allows.
    h.clock.advance(61_000);
    for (const endpoint of ["forward-auth", "auth-request"] as const) {
      const again = await ask(h, { endpoint, uri: "/home", cookie: warm.cookie });
      expect(again.statusCode).toBeGreaterThanOrEqual(500);
    }
    // Without a cookie nothing needs the database: a sign-in is asked for, never content.
    expect((await ask(h, { uri: "/home" })).statusCode).toBe(401);
  });
});
