import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { responseHeaders, withoutGatehouseCookies } from "../../src/http/proxy/forward-headers.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const APP = "app.example.test";
// Requests are injected over plain http: the proxied host's own origin is then http.
const APP_ORIGIN = `http://${APP}`;
const PORTAL = "https://auth.example.test";
const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: "${APP}"
      policy: one_factor
`;

function cookieOf(res: LightMyRequestResponse, name: string): string {
  const c = res.cookies.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} cookie (status ${res.statusCode})`);
  return `${name}=${c.value}`;
}

/**
 * A protected app sees every header it is sent, and many apps log request
 * headers. If Gatehouse passed its own cookies on, the app (or anyone reading
 * its logs, or an attacker who took it over) could replay the session token
 * against the portal, or the CSRF pre-session against the sign-in form.
 */
describe.each(backendNames())("attack: app (or a compromised/logging app) reads the Gatehouse session cookie (%s)", (backend) => {
  let p: ProxyHarness;
  /** Host-only session cookie of the app host (signed in under /.gatehouse there). */
  let hostSession: string;
  /** The portal's host-only session cookie and the COOKIE_DOMAIN single sign-on cookie. */
  let portalSession: string;
  let sso: string;
  /** The pre-session CSRF cookie of an anonymous sign-in form. */
  let csrf: string;

  beforeAll(async () => {
    p = await startProxyHarness(backend, { PUBLIC_URL: PORTAL, COOKIE_DOMAIN: ".example.test" }, RULES);
    const portal = { host: "auth.example.test", origin: PORTAL };
    const username = "cookie-victim";
    expect((await p.h.request({ method: "POST", url: "/api/auth/register", json: { username, password: GOOD_PASSWORD }, headers: portal })).statusCode).toBe(201);
    const login = await p.h.request({ method: "POST", url: "/api/auth/login", json: { username, password: GOOD_PASSWORD }, headers: portal });
    expect(login.statusCode).toBe(200);
    portalSession = cookieOf(login, "__Host-gatehouse_session");
    sso = cookieOf(login, "__Secure-gatehouse_session");
    const onApp = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username, password: GOOD_PASSWORD }, headers: { host: APP, origin: APP_ORIGIN } });
    expect(onApp.statusCode).toBe(200);
    hostSession = cookieOf(onApp, "__Host-gatehouse_session");
    const form = await p.h.request({ method: "GET", url: "/.gatehouse/login", headers: { host: APP, accept: "text/html" } });
    expect(form.statusCode).toBe(200);
    csrf = cookieOf(form, "__Host-gatehouse_csrf");
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  const get = (cookie: string) => p.h.request({ method: "GET", url: "/notes", cookie, headers: { host: APP, accept: "application/json" } });

  it("the app receives its own cookies, byte for byte and in order, and none of Gatehouse's", async () => {
    const sent = `theme=dark; ${hostSession}; cart="a b"; ${csrf};lang=fr-CH; ${sso}; x=`;
    const res = await get(sent);
    expect(res.statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(1);
    const seen = p.upstream.seen[0]!;
    // Signed in with those very cookies: the identity reached the app, the cookies did not.
    expect(seen.headers["remote-user"]).toBe("cookie-victim");
    expect(seen.headers.cookie).toBe('theme=dark; cart="a b"; lang=fr-CH; x=');
    const everything = JSON.stringify(seen.headers);
    for (const secret of [hostSession, sso, csrf]) expect(everything).not.toContain(secret.slice(secret.indexOf("=") + 1));
  });

  it("the app's cookies are only ever removed around, never rewritten", async () => {
    await get(`${sso}; a=1;b=2`);
    expect(p.upstream.seen[0]!.headers.cookie).toBe("a=1; b=2");
    // Without a Gatehouse cookie the header is passed on exactly as sent; look-alike names are the app's.
    expect(withoutGatehouseCookies("a=1;b=2 ;  c=3", "__Host-gatehouse_session")).toBe("a=1;b=2 ;  c=3");
    expect(withoutGatehouseCookies("my_gatehouse_session=1; gatehouse_sessions=2; Gatehouse_Session=3", "gatehouse_session")).toBe("my_gatehouse_session=1; gatehouse_sessions=2; Gatehouse_Session=3");
    expect(withoutGatehouseCookies(["a=1", "gatehouse_csrf=x", "b=2"], "gatehouse_session")).toBe("a=1; b=2");
  });

  it("when only Gatehouse's cookies were sent, the app gets no Cookie header at all", async () => {
    const res = await get(`${hostSession}; ${sso}; ${csrf}; ${portalSession.replace("__Host-", "")}`);
    expect(res.statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(1);
    expect(p.upstream.seen[0]!.headers).not.toHaveProperty("cookie");
  });

  it("a WebSocket upgrade carries the app's cookies only", async () => {
    const base = await listen(p.h);
    {
      const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}/live`, {
          headers: { host: APP, origin: APP_ORIGIN, cookie: `${csrf}; room=42; ${hostSession}; ${sso}` },
        });
        ws.once("unexpected-response", (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
        ws.once("error", reject);
        ws.once("message", (data) => {
          ws.terminate();
          resolve((JSON.parse(String(data)) as { hello: { headers: Record<string, string> } }).hello);
        });
      });
      expect(hello.headers["remote-user"]).toBe("cookie-victim");
      expect(hello.headers.cookie).toBe("room=42");
    }
  });

  it("the app cannot plant or clear a Gatehouse cookie either (Set-Cookie for them is dropped)", async () => {
    const res = await get(`${hostSession}; app=1`);
    expect(res.statusCode).toBe(200);
    // The echo app answers with `Set-Cookie: app=1` and `gatehouse_session=planted`.
    expect(res.cookies.map((c) => c.name)).toEqual(["app"]);
    const out = responseHeaders({ "set-cookie": ["a=1; Path=/", "__Host-gatehouse_csrf=x; Path=/; Secure", "gatehouse_csrf=y", "__Secure-gatehouse_session=z; Domain=example.test"] }, "__Host-gatehouse_session");
    expect(out["set-cookie"]).toEqual(["a=1; Path=/"]);
  });
});
