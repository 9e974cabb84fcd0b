import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const SSO = "__Secure-gatehouse_session";
const APP = "app.example.test";
const PORTAL = "https://auth.example.test";
const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: "${APP}"
      policy: one_factor
`;

function ssoCookieOf(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === SSO);
  if (!c) throw new Error(`no ${SSO} cookie (status ${res.statusCode})`);
  return `${SSO}=${c.value}`;
}

// Session lookups are covered on both backends elsewhere; this suite is about the cookie's path through the proxy.
describe("attack: single sign-on cookie through the reverse proxy (COOKIE_DOMAIN)", () => {
  let p: ProxyHarness;
  let sso: string;
  let username: string;
  /** A request to the portal's own host (every other host is proxied). */
  const portal = (method: string, url: string, json?: unknown, cookie?: string) =>
    p.h.gh.app.inject({
      method,
      url,
      headers: { host: "auth.example.test", origin: PORTAL, ...(json === undefined ? {} : { "content-type": "application/json" }), ...(cookie ? { cookie } : {}) },
      ...(json === undefined ? {} : { payload: JSON.stringify(json) }),
    });
  const signIn = () => portal("POST", "/api/auth/login", { username, password: GOOD_PASSWORD });

  beforeAll(async () => {
    p = await startProxyHarness("sqlite", { PUBLIC_URL: PORTAL, COOKIE_DOMAIN: ".example.test" }, RULES);
    username = "sso-reader";
    expect((await portal("POST", "/api/auth/register", { username, password: GOOD_PASSWORD })).statusCode).toBe(201);
    const login = await signIn();
    expect(login.statusCode).toBe(200);
    sso = ssoCookieOf(login);
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  const onApp = (cookie: string, method = "GET", headers: Record<string, string> = {}) =>
    p.h.gh.app.inject({ method, url: "/notes", headers: { host: APP, cookie, accept: "application/json", ...headers } });

  it("one sign-in on the portal covers the app: the SSO cookie alone is let through with the identity", async () => {
    const res = await onApp(sso);
    expect(res.statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(1);
    expect(p.upstream.seen[0]!.headers["remote-user"]).toBe(username);
  });

  it("the app never sees Gatehouse's cookies (a compromised app cannot steal the session)", async () => {
    await onApp(`${sso}; theme=dark`);
    expect(p.upstream.seen[0]!.headers.cookie).toBe("theme=dark");
  });

  it("a forged or tampered SSO cookie is worthless: 401, nothing forwarded", async () => {
    const value = sso.slice(SSO.length + 1);
    const flipped = value.slice(0, -2) + (value.endsWith("A") ? "B" : "A") + value.slice(-1);
    expect((await onApp(`${SSO}=${flipped}`)).statusCode).toBe(401);
    expect((await onApp(`${SSO}=not-a-sealed-token`)).statusCode).toBe(401);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("cross-site request forgery riding the SSO cookie is refused before the app", async () => {
    const res = await onApp(sso, "POST", { origin: "https://evil.test", "sec-fetch-site": "cross-site", "content-type": "application/json" });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("csrf");
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("signing out on the portal ends the SSO session on the app at the next request", async () => {
    const login = await signIn();
    const mine = ssoCookieOf(login);
    expect((await onApp(mine)).statusCode).toBe(200);
    const hostCookie = login.cookies.find((c) => c.name === "__Host-gatehouse_session")!;
    expect((await portal("POST", "/api/auth/logout", undefined, `__Host-gatehouse_session=${hostCookie.value}`)).statusCode).toBe(204);
    expect((await onApp(mine)).statusCode).toBe(401);
  });
});
