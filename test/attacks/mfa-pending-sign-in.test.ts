import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";

const HOST = "__Host-gatehouse_session";
const SSO = "__Secure-gatehouse_session";
const PENDING = "__Host-gatehouse_pending";

function pendingValue(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === PENDING);
  if (!c || c.value === "") throw new Error(`no pending cookie (status ${res.statusCode}: ${res.body})`);
  return c.value;
}

describe.each(backendNames())("attack: MFA bypass with the password-only pending sign-in (MFA-04, SESS-04) (%s)", (backend) => {
  let h: Harness;
  const factors = secondFactorDouble();
  let victim: { id: string; name: string };

  beforeAll(async () => {
    h = await startHarness(
      backend,
      { PUBLIC_URL: "https://auth.example.test", COOKIE_DOMAIN: ".example.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) },
      undefined,
      { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers },
    );
    victim = await h.account("admin");
    factors.enrolled.add(victim.id);
  });
  afterAll(async () => h?.close());

  /** The attacker knows the password, not the second factor: all they get is the pending token. */
  async function passwordOnly(): Promise<string> {
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD } });
    expect(res.json()).toEqual({ mfa_required: true, methods: ["totp"] });
    expect(sessionCookieFrom(res)).toBeNull();
    expect(res.cookies.find((c) => c.name === SSO)).toBeUndefined();
    return pendingValue(res);
  }

  it("the pending token presented as the session cookie is no session: the API answers 401, the pages send to sign-in", async () => {
    const token = await passwordOnly();
    for (const cookie of [`${HOST}=${token}`, `${PENDING}=${token}`, `gatehouse_session=${token}`]) {
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode, cookie).toBe(401);
      expect((await h.request({ method: "GET", url: "/api/account/sessions", cookie })).statusCode, cookie).toBe(401);
      expect((await h.request({ method: "GET", url: "/api/admin/users", cookie })).statusCode, cookie).toBe(401);
      const page = await h.request({ method: "GET", url: "/account", cookie });
      expect(page.statusCode, cookie).toBe(303);
      expect(String(page.headers.location)).toMatch(/^\/login/);
    }
  });

  it("the pending token at forward-auth, as the portal cookie, the SSO cookie or itself: 401 (302 for a browser), never the user's headers", async () => {
    const token = await passwordOnly();
    for (const cookie of [`${HOST}=${token}`, `${SSO}=${token}`, `${PENDING}=${token}`]) {
      const api = await ask(h, { uri: "/admin", cookie });
      expect(api.statusCode, cookie).toBe(401);
      expect(api.headers["remote-user"]).toBeUndefined();
      const browser = await ask(h, { uri: "/admin", cookie, accept: "text/html" });
      expect(browser.statusCode, cookie).toBe(302);
      expect(String(browser.headers.location)).toMatch(/^https:\/\/auth\.example\.test\/login\?return=/);
      expect((await ask(h, { endpoint: "auth-request", uri: "/", cookie })).statusCode, cookie).toBe(401);
    }
  });

  it("replaying a used pending token: 401 sign_in_expired, and it never becomes a session", async () => {
    const token = await passwordOnly();
    const done = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: `${PENDING}=${token}`, json: { method: "totp", code: TEST_CODE } });
    expect(done.statusCode).toBe(200);
    expect(sessionCookieFrom(done)).not.toBeNull();
    const replay = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: `${PENDING}=${token}`, json: { method: "totp", code: TEST_CODE } });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe("sign_in_expired");
    expect(sessionCookieFrom(replay)).toBeNull();
    expect((await ask(h, { uri: "/", cookie: `${HOST}=${token}` })).statusCode).toBe(401);
  });

  it("a forged amr or aal cannot be sent by the client: unknown fields are refused (400) and the session records only what the server checked", async () => {
    const forgedLogin = await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD, amr: ["pwd", "otp"], aal: "aal2" } });
    expect(forgedLogin.statusCode).toBe(400);
    expect(sessionCookieFrom(forgedLogin)).toBeNull();
    const token = await passwordOnly();
    const cookie = `${PENDING}=${token}`;
    const forgedVerify = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method: "totp", code: "123456", amr: ["pwd", "otp", "hwk"] } });
    expect(forgedVerify.statusCode).toBe(400);
    // Naming an amr value, or the first factor, as the method proves nothing.
    for (const method of ["otp", "pwd", "hwk", "password"]) {
      const res = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method, code: TEST_CODE } });
      expect(res.json().code, method).toBe("invalid_second_factor");
    }
    const done = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method: "totp", code: TEST_CODE } });
    const session = sessionCookieFrom(done) as string;
    const current = (await h.request({ method: "GET", url: "/api/account/sessions", cookie: session })).json().sessions.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
  });

  it("session fixation at MFA completion: a session planted before the login is ended, and the completed sign-in gets a brand-new token", async () => {
    const other = await h.account("user");
    const planted = sessionCookieFrom(await h.request({ method: "POST", url: "/api/auth/login", json: { username: other.name, password: GOOD_PASSWORD } })) as string;
    const login = await h.request({ method: "POST", url: "/api/auth/login", cookie: planted, json: { username: victim.name, password: GOOD_PASSWORD } });
    expect(login.json().mfa_required).toBe(true);
    // The planted session ended with the password step: the browser is signed in as nobody while it waits.
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: planted })).statusCode).toBe(401);
    const done = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: `${planted}; ${PENDING}=${pendingValue(login)}`, json: { method: "totp", code: TEST_CODE } });
    const fresh = sessionCookieFrom(done) as string;
    expect(fresh).not.toBe(planted);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: fresh })).json().user.id).toBe(victim.id);
  });
});
