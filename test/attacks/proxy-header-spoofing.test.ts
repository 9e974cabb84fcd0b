import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** Every spelling of a forged identity a client might try. */
const FORGED: Record<string, string> = {
  "remote-user": "admin",
  "remote-groups": "superadmin",
  "remote-email": "boss@evil.test",
  "remote-name": "Admin",
  REMOTE_USER: "admin",
  remote_groups: "superadmin",
  "Remote_Email": "boss@evil.test",
};

describe.each(backendNames())("forged Remote-User: admin / Remote-Groups: superadmin never reach the upstream (%s)", (backend) => {
  let p: ProxyHarness;
  let user: { name: string };
  let cookie: string;

  beforeAll(async () => {
    p = await startProxyHarness(backend);
    user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  function assertNoForgery(): void {
    expect(p.upstream.seen.length).toBeGreaterThan(0);
    for (const seen of p.upstream.seen) {
      const names = Object.keys(seen.headers);
      // No underscore spelling survives (a CGI-style app would read it as REMOTE_USER).
      expect(names.filter((n) => n.replaceAll("_", "-") !== n && n.replaceAll("_", "-").startsWith("remote-"))).toEqual([]);
      const text = JSON.stringify(seen.headers);
      expect(text).not.toContain("superadmin");
      expect(text).not.toContain("boss@evil.test");
      expect(seen.headers["remote-user"]).not.toBe("admin");
    }
  }

  it("on a bypass rule (anonymous): the identity headers arrive empty", async () => {
    const res = await p.h.request({ method: "GET", url: "/public/index.html", headers: { host: APP_HOST, ...FORGED } });
    expect(res.statusCode).toBe(200);
    expect(p.upstream.seen[0]?.headers["remote-user"]).toBe("");
    expect(p.upstream.seen[0]?.headers["remote-groups"]).toBe("");
    assertNoForgery();
  });

  it("on a bypass rule with a session: the real identity, not the forged one", async () => {
    await p.h.request({ method: "GET", url: "/public/index.html", cookie, headers: { host: APP_HOST, ...FORGED } });
    expect(p.upstream.seen[0]?.headers["remote-user"]).toBe(user.name);
    assertNoForgery();
  });

  it("on an authenticated rule: the real identity, not the forged one", async () => {
    await p.h.request({ method: "POST", url: "/api/orders", cookie, payload: "{}", headers: { host: APP_HOST, origin: APP_ORIGIN, "content-type": "application/json", ...FORGED } });
    expect(p.upstream.seen[0]?.headers["remote-user"]).toBe(user.name);
    expect(p.upstream.seen[0]?.headers["remote-groups"]).toBe("user");
    assertNoForgery();
  });

  it("a forged identity does not open an admin-only path", async () => {
    const res = await p.h.request({ method: "GET", url: "/admin/users", cookie, headers: { host: APP_HOST, ...FORGED } });
    expect(res.statusCode).toBe(403);
    const anon = await p.h.request({ method: "GET", url: "/admin/users", headers: { host: APP_HOST, ...FORGED } });
    expect(anon.statusCode).toBe(401);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("headers named in Connection cannot strip the injected identity", async () => {
    await p.h.request({ method: "GET", url: "/me", cookie, headers: { host: APP_HOST, connection: "close, remote-user, remote-groups, x-forwarded-for" } });
    expect(p.upstream.seen[0]?.headers["remote-user"]).toBe(user.name);
    expect(p.upstream.seen[0]?.headers["remote-groups"]).toBe("user");
    expect(p.upstream.seen[0]?.headers["x-forwarded-for"]).toBeDefined();
  });
});
