import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { ask, PROXY } from "../helpers/forward-auth.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness, upgradeStatus } from "../helpers/reverse-proxy.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { WebClient } from "../helpers/web-client.js";

/** `/secure` needs a second factor in this session (two_factor); the rest of the app a sign-in. */
const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: ${APP_HOST}
      resources: ["^/secure"]
      policy: two_factor
    - domain: ${APP_HOST}
      policy: one_factor
`;
const HTML = "text/html,application/xhtml+xml";
const PENDING = "gatehouse_pending";

describe.each(backendNames())("attack: step-up and two_factor rules (MFA-04, SESS-04) (%s)", (backend) => {
  let p: ProxyHarness;
  let base: string;
  const factors = secondFactorDouble();

  beforeAll(async () => {
    p = await startProxyHarness(backend, { TRUSTED_PROXIES: PROXY }, RULES, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
    base = await listen(p.h);
  });
  afterAll(async () => p?.close());

  /** A victim whose password the attacker knows (an aal1 session), with a second factor the attacker does not have. */
  async function aal1() {
    const account = await p.h.account();
    factors.enrolled.add(account.id);
    return account;
  }
  /** The session's `aal` and `amr` as the server recorded them. */
  async function assurance(cookie: string) {
    const list = await p.h.request({ method: "GET", url: "/api/account/sessions", cookie });
    return (list.json().sessions as { current: boolean; aal: string; amr: string[] }[]).find((s) => s.current);
  }
  const viaProxy = (cookie: string, url = "/secure", method: "GET" | "POST" = "GET", headers: Record<string, string> = {}) =>
    p.h.request({ method, url, cookie, headers: { host: APP_HOST, origin: APP_ORIGIN, ...headers } });

  it("attack: step-up skipped by going straight to the app: every method, flavour, spelling and the WebSocket are refused; nothing reaches the app", async () => {
    const { cookie } = await aal1();
    const before = p.upstream.seen.length;
    for (const uri of ["/secure", "/secure/", "/secure?x=1", "/Secure/../secure", "/./secure", "//secure", "/secure%2f..", "/%73ecure"]) {
      for (const endpoint of ["forward-auth", "auth-request"] as const) {
        for (const method of ["GET", "POST", "HEAD", "OPTIONS"]) {
          const res = await ask(p.h, { endpoint, host: APP_HOST, uri, method, cookie, accept: HTML });
          expect([302, 401, 403], `${endpoint} ${method} ${uri}`).toContain(res.statusCode);
          expect(res.headers["remote-user"], `${endpoint} ${method} ${uri}`).toBeUndefined();
        }
      }
      for (const method of ["GET", "POST"] as const) {
        const res = await viaProxy(cookie, uri, method);
        expect([302, 400, 401, 403], `proxy ${method} ${uri}`).toContain(res.statusCode);
      }
    }
    expect(await upgradeStatus(base, "/secure", { host: APP_HOST, origin: APP_ORIGIN, cookie })).toBe(401);
    // Loading the second-factor page without answering it changes nothing.
    expect((await p.h.request({ method: "GET", url: "/.gatehouse/login/second-factor?return=/secure", cookie, headers: { host: APP_HOST } })).statusCode).toBe(200);
    expect((await viaProxy(cookie)).json().code).toBe("mfa_required");
    // A form post without a code, or with an empty one, steps nothing up.
    const browser = new WebClient(p.h);
    const [name, value] = cookie.split("=") as [string, string];
    browser.jar.set(name, value);
    await browser.get("/login/second-factor?return=/account");
    expect((await browser.post("/login/second-factor", { method: "totp", return: "/account" })).statusCode).toBe(401);
    expect((await browser.post("/login/second-factor", { method: "totp", code: "", return: "/account" })).statusCode).toBe(401);
    expect(browser.session).toBe(cookie);
    expect((await assurance(cookie))?.aal).toBe("aal1");
    expect(p.upstream.seen.length).toBe(before);
  });

  it("attack: forged amr: fields in the body are refused, cookies and headers are ignored, amr values as a method prove nothing; only the verifier's amr is added", async () => {
    const victim = await aal1();
    const cookie = victim.cookie;
    const forgedBody = await p.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method: "totp", code: "123456", amr: ["pwd", "otp"], aal: "aal2" } });
    expect(forgedBody.statusCode).toBe(400);
    expect(sessionCookieFrom(forgedBody)).toBeNull();
    expect((await p.h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: GOOD_PASSWORD, amr: ["pwd", "hwk"] } })).statusCode).toBe(400);
    const forgedHeaders = { amr: "pwd otp", "x-amr": "pwd otp", aal: "aal2", "x-aal": "aal2", "remote-user": victim.name, "x-forwarded-user": victim.name };
    const forgedCookie = `${cookie}; amr=pwd%20otp; aal=aal2; gatehouse_amr=otp`;
    expect((await ask(p.h, { host: APP_HOST, uri: "/secure", cookie: forgedCookie, headers: forgedHeaders })).json().code).toBe("mfa_required");
    expect((await viaProxy(forgedCookie, "/secure", "GET", forgedHeaders)).json().code).toBe("mfa_required");
    // Four (the fifth wrong code would pause the factor, MFA-03): each is a wrong second factor.
    for (const method of ["otp", "pwd", "hwk", "webauthn"]) {
      const res = await p.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method, code: TEST_CODE } });
      expect(res.json().code, method).toBe("invalid_second_factor");
      expect(sessionCookieFrom(res), method).toBeNull();
    }
    expect(await assurance(cookie)).toMatchObject({ aal: "aal1", amr: ["pwd"] });
    // The page's form: an amr field is ignored, the session records the server's methods only.
    const browser = new WebClient(p.h);
    const [name, value] = cookie.split("=") as [string, string];
    browser.jar.set(name, value);
    await browser.get("/login/second-factor?return=/account");
    const done = await browser.post("/login/second-factor", { method: "totp", code: TEST_CODE, amr: "hwk", aal: "aal3", return: "/account" });
    expect(done.statusCode).toBe(303);
    expect(await assurance(browser.session as string)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    expect((await p.h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
  });

  it("attack: a pending sign-in is not a session anywhere, not even to step up: /api/auth/me, forward-auth, the proxy, a WebSocket and the step-up all answer 401", async () => {
    const victim = await aal1();
    const login = await p.h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD } });
    const pending = login.cookies.find((c) => c.name === PENDING)?.value as string;
    expect(pending).toBeTruthy();
    const before = p.upstream.seen.length;
    for (const cookie of [`gatehouse_session=${pending}`, `${PENDING}=${pending}`]) {
      expect((await p.h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode, cookie).toBe(401);
      const fwd = await ask(p.h, { host: APP_HOST, uri: "/secure", cookie });
      expect(fwd.statusCode, cookie).toBe(401);
      expect(fwd.json().code, cookie).toBe("unauthenticated");
      expect((await viaProxy(cookie)).statusCode, cookie).toBe(401);
      expect(await upgradeStatus(base, "/secure", { host: APP_HOST, origin: APP_ORIGIN, cookie }), cookie).toBe(401);
    }
    // The pending token as the session cookie at the step-up: no session, so no step-up (and no sign-in).
    const asSession = await p.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: `gatehouse_session=${pending}`, json: { method: "totp", code: TEST_CODE } });
    expect(asSession.statusCode).toBe(401);
    expect(asSession.json().code).toBe("sign_in_expired");
    expect(sessionCookieFrom(asSession)).toBeNull();
    expect(p.upstream.seen.length).toBe(before);
  });

  it("attack: replaying the session a step-up replaced: the old token is dead everywhere, and it cannot step up again", async () => {
    const victim = await aal1();
    const res: LightMyRequestResponse = await p.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: victim.cookie, json: { method: "totp", code: TEST_CODE } });
    expect(res.statusCode).toBe(200);
    const old = victim.cookie;
    expect((await ask(p.h, { host: APP_HOST, uri: "/secure", cookie: old })).statusCode).toBe(401);
    expect((await ask(p.h, { host: APP_HOST, uri: "/secure", cookie: old })).json().code).toBe("unauthenticated");
    const again = await p.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: old, json: { method: "totp", code: TEST_CODE } });
    expect(again.statusCode).toBe(401);
    expect(sessionCookieFrom(again)).toBeNull();
  });
});
