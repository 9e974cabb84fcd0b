import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

describe.each(backendNames())("revocation, blocking and demotion take effect on the very next proxied request (%s)", (backend) => {
  let p: ProxyHarness;
  let superadmin: { cookie: string };

  beforeAll(async () => {
    p = await startProxyHarness(backend);
    superadmin = await p.h.account("superadmin");
  });
  afterAll(async () => p?.close());

  async function signedIn(role: "user" | "admin" = "user") {
    const account = await p.h.account(role);
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: account.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    const cookie = sessionCookieFrom(login) as string;
    const get = (url = "/dashboard") => p.h.request({ method: "GET", url, cookie, headers: { host: APP_HOST } });
    // Warm the session cache: a stale cached allow is exactly what must not survive.
    expect((await get()).statusCode).toBe(200);
    return { ...account, cookie, get };
  }

  function forwardedCount(): number {
    return p.upstream.seen.length;
  }

  it("after sign-out, the old cookie is refused (401) and nothing more is forwarded", async () => {
    const u = await signedIn();
    await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/logout", cookie: u.cookie, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    const before = forwardedCount();
    const res = await u.get();
    expect(res.statusCode).toBe(401);
    expect(forwardedCount()).toBe(before);
  });

  it("after an admin revokes the sessions: a browser navigation goes back to sign-in", async () => {
    const u = await signedIn();
    expect((await p.h.request({ method: "DELETE", url: `/api/admin/users/${u.id}/sessions`, cookie: superadmin.cookie })).statusCode).toBe(200);
    const res = await p.h.request({ method: "GET", url: "/dashboard", cookie: u.cookie, headers: { host: APP_HOST, accept: "text/html" } });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(/^\/\.gatehouse\/login\?return=/);
    // The dead cookie is cleared.
    expect(String(res.headers["set-cookie"])).toMatch(/gatehouse_session=;/);
  });

  it("after the user is blocked: refused at once", async () => {
    const u = await signedIn();
    expect((await p.h.request({ method: "PATCH", url: `/api/admin/users/${u.id}`, cookie: superadmin.cookie, json: { blocked: true } })).statusCode).toBe(200);
    const before = forwardedCount();
    expect((await u.get()).statusCode).toBe(401);
    expect(forwardedCount()).toBe(before);
  });

  it("after an admin is demoted: the admin-only path is 403 at once, the rest still works", async () => {
    const a = await signedIn("admin");
    expect((await a.get("/admin/panel")).statusCode).toBe(200);
    expect((await p.h.request({ method: "PATCH", url: `/api/admin/users/${a.id}`, cookie: superadmin.cookie, json: { role: "user" } })).statusCode).toBe(200);
    const res = await a.get("/admin/panel");
    // A role change rotates or ends the session (SESS-04): either way, no admin page.
    expect([401, 403]).toContain(res.statusCode);
  });
});
