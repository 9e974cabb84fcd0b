import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** The FWD-04 list against the rule "deny /admin to role user" (APP_RULES). */
const PAYLOADS = [
  "/admin",
  "/Admin",
  "/ADMIN/users",
  "/admin/",
  "//admin",
  "///admin",
  "/./admin",
  "/public/../admin",
  "/public/%2e%2e/admin",
  "/%61dmin",
  "/admin%2f",
  "/%2e%2e/admin",
  "/%2fadmin",
  "/admin;x=y",
  "/admin%00",
  "/admin%2500",
  "/%252e%252e/admin",
  "/public\\..\\admin",
  "/public/..%5cadmin",
];

describe("path confusion never reaches a denied /admin through the reverse proxy", () => {
  let p: ProxyHarness;
  let cookie: string;

  beforeAll(async () => {
    p = await startProxyHarness("sqlite");
    const user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => p?.close());

  for (const url of PAYLOADS) {
    it(`${url} as a signed-in user → 400/403, nothing forwarded`, async () => {
      p.upstream.seen.length = 0;
      const res = await p.h.request({ method: "GET", url, cookie, headers: { host: APP_HOST } });
      expect([400, 403], res.body).toContain(res.statusCode);
      expect(p.upstream.seen).toEqual([]);
    });
  }

  it("host spelling does not dodge the rules (App.Test., port)", async () => {
    for (const host of ["App.Test.", "APP.TEST", "app.test:80"]) {
      p.upstream.seen.length = 0;
      const res = await p.h.request({ method: "GET", url: "/admin", cookie, headers: { host } });
      expect([400, 403], host).toContain(res.statusCode);
      expect(p.upstream.seen).toEqual([]);
    }
  });

  it("the prefix cannot be used to smuggle a path to the app: /.gatehouse/../admin is not forwarded", async () => {
    p.upstream.seen.length = 0;
    for (const url of ["/.gatehouse/../admin", "/.gatehouse/%2e%2e/admin", "/.gatehouse//admin"]) {
      const res = await p.h.request({ method: "GET", url, cookie, headers: { host: APP_HOST } });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
    }
    expect(p.upstream.seen).toEqual([]);
  });

  it("an ordinary path still works (the rules are not simply refusing everything)", async () => {
    const res = await p.h.request({ method: "GET", url: "/administrivia-is-not-admin?x=1", cookie, headers: { host: APP_HOST } });
    // ^/admin matches this too (a prefix regex), so it is denied; a clearly different path is forwarded:
    expect(res.statusCode).toBe(403);
    const ok = await p.h.request({ method: "GET", url: "/reports", cookie, headers: { host: APP_HOST } });
    expect(ok.statusCode).toBe(200);
  });
});
