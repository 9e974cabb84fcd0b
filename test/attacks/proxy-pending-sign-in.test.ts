import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, APP_RULES, listen, startProxyHarness, type ProxyHarness, upgradeStatus } from "../helpers/reverse-proxy.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";

const PENDING = "gatehouse_pending";

function pendingValue(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === PENDING);
  if (!c || c.value === "") throw new Error(`no pending cookie (status ${res.statusCode}: ${res.body})`);
  return c.value;
}

describe.each(backendNames())("attack: the pending sign-in token used as a session through the reverse proxy and WebSockets (MFA-04) (%s)", (backend) => {
  let p: ProxyHarness;
  let base: string;
  const factors = secondFactorDouble();
  let victim: { id: string; name: string };

  beforeAll(async () => {
    p = await startProxyHarness(backend, {}, APP_RULES, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
    victim = await p.h.account("user");
    factors.enrolled.add(victim.id);
    base = await listen(p.h);
  });
  afterAll(async () => p?.close());

  /** A password login on the app's host (`/.gatehouse/`): the pending token, no session. */
  async function passwordOnly(): Promise<string> {
    const res = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    expect(res.json()).toEqual({ mfa_required: true, methods: ["totp"] });
    expect(sessionCookieFrom(res)).toBeNull();
    return pendingValue(res);
  }

  it("the pending token as the session cookie, or as itself: 401 (302 to sign-in for a browser), and nothing reaches the app", async () => {
    const token = await passwordOnly();
    const before = p.upstream.seen.length;
    for (const cookie of [`gatehouse_session=${token}`, `${PENDING}=${token}`]) {
      expect((await p.h.request({ method: "GET", url: "/dashboard", cookie, headers: { host: APP_HOST } })).statusCode, cookie).toBe(401);
      const browser = await p.h.request({ method: "GET", url: "/dashboard", cookie, headers: { host: APP_HOST, accept: "text/html" } });
      expect(browser.statusCode, cookie).toBe(302);
      expect(String(browser.headers.location)).toMatch(/^\/\.gatehouse\/login\?return=/);
    }
    expect(p.upstream.seen.length).toBe(before);
  });

  it("a WebSocket upgrade carrying the pending token as the session cookie is refused with 401", async () => {
    const token = await passwordOnly();
    const before = p.upstream.seen.length;
    expect(await upgradeStatus(base, "/ws", { host: APP_HOST, origin: APP_ORIGIN, cookie: `gatehouse_session=${token}` })).toBe(401);
    expect(await upgradeStatus(base, "/ws", { host: APP_HOST, origin: APP_ORIGIN, cookie: `${PENDING}=${token}` })).toBe(401);
    expect(p.upstream.seen.length).toBe(before);
  });

  it("once the second factor is given on the app's host, the new session passes the proxy (and the used pending token still does not)", async () => {
    const token = await passwordOnly();
    const done = await p.h.request({
      method: "POST",
      url: "/.gatehouse/api/auth/mfa/verify",
      cookie: `${PENDING}=${token}`,
      json: { method: "totp", code: TEST_CODE },
      headers: { host: APP_HOST, origin: APP_ORIGIN },
    });
    expect(done.statusCode).toBe(200);
    const session = sessionCookieFrom(done) as string;
    expect((await p.h.request({ method: "GET", url: "/dashboard", cookie: session, headers: { host: APP_HOST } })).statusCode).toBe(200);
    expect(await upgradeStatus(base, "/ws", { host: APP_HOST, origin: APP_ORIGIN, cookie: session })).toBe(101);
    expect((await p.h.request({ method: "GET", url: "/dashboard", cookie: `gatehouse_session=${token}`, headers: { host: APP_HOST } })).statusCode).toBe(401);
  });
});
