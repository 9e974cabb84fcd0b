import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { ask, PROXY, rulesFile } from "../helpers/forward-auth.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { WebClient } from "../helpers/web-client.js";

/** `/secure` needs a second factor in this session; the rest of the app a sign-in. */
const FWD_RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.example.test
      resources: ["^/secure"]
      policy: two_factor
    - domain: app.example.test
      policy: one_factor
`;

const PROXY_RULES = FWD_RULES.replaceAll("app.example.test", APP_HOST);
const HTML = "text/html,application/xhtml+xml";

/** The session's `aal` and `amr` as the session list reports them. */
async function assurance(h: Harness, cookie: string): Promise<{ aal: string; amr: string[] }> {
  const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
  const current = (list.json().sessions as { current: boolean; aal: string; amr: string[] }[]).find((s) => s.current);
  if (!current) throw new Error(`no current session (${list.statusCode})`);
  return { aal: current.aal, amr: current.amr };
}

function newCookie(res: LightMyRequestResponse): string {
  const cookie = sessionCookieFrom(res);
  if (cookie === null) throw new Error(`no session cookie (status ${res.statusCode}: ${res.body})`);
  return cookie;
}

describe.each(backendNames())("two_factor rules through forward-auth, and the step-up (%s)", (backend) => {
  let h: Harness;
  const factors = secondFactorDouble();

  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(FWD_RULES) }, undefined, {
      secondFactors: factors.secondFactors,
      secondFactorVerifiers: factors.secondFactorVerifiers,
    });
  });
  afterAll(async () => h?.close());

  /** A signed-in user (a password alone: aal1) who has the test second factor. */
  async function aal1(enrol = true) {
    const account = await h.account();
    if (enrol) factors.enrolled.add(account.id);
    return account;
  }
  const stepUp = (cookie: string, code = TEST_CODE, method = "totp") => h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method, code }, cookie });
  const target = encodeURIComponent("https://app.example.test/secure?x=1");

  it("anonymous: the sign-in redirect (302) on both endpoints' terms, as for any rule", async () => {
    const res = await ask(h, { uri: "/secure?x=1", accept: HTML });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`https://gw.test/login?return=${target}`);
    expect((await ask(h, { uri: "/secure?x=1" })).json()).toEqual({ error: "Authentication required", code: "unauthenticated" });
  });

  it("aal1 with a second factor: a browser is sent (302) to the second-factor page with the validated return URL; an API client gets 401 mfa_required; nginx gets 401 with the Location", async () => {
    const { cookie } = await aal1();
    const browser = await ask(h, { uri: "/secure?x=1", accept: HTML, cookie });
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe(`https://gw.test/login/second-factor?return=${target}`);
    expect(browser.headers["remote-user"]).toBeUndefined();
    const api = await ask(h, { uri: "/secure?x=1", cookie });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({ error: "A second factor is required; confirm it is you with your second factor", code: "mfa_required" });
    expect(api.headers["remote-user"]).toBeUndefined();
    const nginx = await ask(h, { endpoint: "auth-request", uri: "/secure?x=1", accept: HTML, cookie });
    expect(nginx.statusCode).toBe(401);
    expect(nginx.headers.location).toBe(`https://gw.test/login/second-factor?return=${target}`);
    // A form POST cannot be redirected: the page the proxy relays links to the second-factor page.
    const post = await ask(h, { method: "POST", uri: "/secure?x=1", accept: HTML, cookie });
    expect(post.statusCode).toBe(401);
    expect(post.body).toContain('data-error="mfa_required"');
    expect(post.body).toContain(`href="https://gw.test/login/second-factor?return=${target}"`);
    // The rest of the app (one_factor) lets the same session through.
    expect((await ask(h, { uri: "/home", cookie })).statusCode).toBe(200);
  });

  it("aal1 without any second factor: sent to enrol one (/account/mfa), which lists what can be enrolled", async () => {
    const { cookie } = await aal1(false);
    const browser = await ask(h, { uri: "/secure?x=1", accept: HTML, cookie });
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe(`https://gw.test/account/mfa?return=${target}`);
    expect((await ask(h, { uri: "/secure?x=1", cookie })).json().code).toBe("mfa_required");
    const page = await h.request({ method: "GET", url: `/account/mfa?return=${target}`, cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('href="/account/mfa/totp"');
    expect(page.body).toContain('href="/account#passkeys"');
    // The second-factor page sends such a user to enrol too.
    const form = await h.request({ method: "GET", url: `/login/second-factor?return=${target}`, cookie });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe(`/account/mfa?return=${target}`);
  });

  it("step-up through the API: a new session (the old token dead) with aal2 and amr [pwd, otp], audited mfa_step_up; forward-auth then allows it with the identity headers", async () => {
    const account = await aal1();
    const wrong = await stepUp(account.cookie, "123456");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe("invalid_second_factor");
    expect(sessionCookieFrom(wrong)).toBeNull();
    const res = await stepUp(account.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ id: account.id, username: account.name });
    const cookie = newCookie(res);
    expect(cookie).not.toBe(account.cookie);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: account.cookie })).statusCode).toBe(401);
    expect(await assurance(h, cookie)).toEqual({ aal: "aal2", amr: ["pwd", "otp"] });
    const [event] = await h.gh.stores.audit.list({ userId: account.id, type: "mfa_step_up", limit: 5 });
    expect(event?.details).toMatchObject({ method: "totp", aal: "aal2", amr: "pwd otp" });
    const allowed = await ask(h, { uri: "/secure?x=1", accept: HTML, cookie });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers["remote-user"]).toBe(account.name);
    expect(allowed.headers["remote-email"]).toBe(`${account.name}@example.test`);
    expect((await ask(h, { endpoint: "auth-request", uri: "/secure", cookie })).statusCode).toBe(200);
  });

  it("step-up through the portal: the second-factor page, a wrong code, the right one, then back to the original URL", async () => {
    const account = await aal1();
    const browser = new WebClient(h);
    const [name, value] = account.cookie.split("=") as [string, string];
    browser.jar.set(name, value);
    const form = await browser.get(`/login/second-factor?return=${target}`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('action="/login/second-factor"');
    expect(form.body).toContain('name="method" value="totp"');
    const wrong = await browser.post("/login/second-factor", { method: "totp", code: "999999", return: "https://app.example.test/secure?x=1" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The code is incorrect.");
    const done = await browser.post("/login/second-factor", { method: "totp", code: TEST_CODE, return: "https://app.example.test/secure?x=1" });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("https://app.example.test/secure?x=1");
    const cookie = browser.session as string;
    expect(cookie).not.toBe(account.cookie);
    expect((await ask(h, { uri: "/secure?x=1", accept: HTML, cookie })).statusCode).toBe(200);
    // Once aal2, the page goes straight back; a return URL off the rules' hosts is refused (REDIR-01).
    const again = await browser.get(`/login/second-factor?return=${target}`);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe("https://app.example.test/secure?x=1");
    expect((await browser.get(`/login/second-factor?return=${encodeURIComponent("https://evil.test/")}`)).headers.location).toBe("/account");
  });

  it("the second-factor page without a session sends to sign in, keeping the return URL", async () => {
    const res = await h.request({ method: "GET", url: `/login/second-factor?return=${target}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/login?return=${target}`);
  });

  it("step-up codes share the second factors' guard: five wrong codes pause the factor, and the right code is then refused (429)", async () => {
    const account = await aal1();
    for (let i = 0; i < 5; i++) expect((await stepUp(account.cookie, "111111")).statusCode).toBe(401);
    const res = await stepUp(account.cookie);
    expect(res.statusCode).toBe(429);
    expect(sessionCookieFrom(res)).toBeNull();
    expect(await h.gh.stores.audit.list({ userId: account.id, type: "mfa_locked", limit: 5 })).toHaveLength(1);
  });

  it("re-authentication accepts a second factor: 204, a new token marked re-authenticated (and aal2); a wrong code is 401, a user without one cannot use it", async () => {
    const account = await aal1();
    const reauth = (cookie: string, json: Record<string, unknown>) => h.request({ method: "POST", url: "/api/auth/reauth", json, cookie });
    const wrong = await reauth(account.cookie, { method: "totp", code: "222222" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe("invalid_second_factor");
    expect((await reauth(account.cookie, { password: GOOD_PASSWORD, method: "totp", code: TEST_CODE })).statusCode).toBe(400);
    expect((await reauth(account.cookie, { method: "totp" })).statusCode).toBe(400);
    h.clock.advance(60_000);
    const res = await reauth(account.cookie, { method: "totp", code: TEST_CODE });
    expect(res.statusCode).toBe(204);
    const cookie = newCookie(res);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: account.cookie })).statusCode).toBe(401);
    const valid = await h.gh.sessions.validate(cookie.slice(cookie.indexOf("=") + 1));
    expect(valid?.session.reauthAt).toBe(h.clock.now());
    expect(await assurance(h, cookie)).toEqual({ aal: "aal2", amr: ["pwd", "otp"] });
    // The password still works as before.
    expect((await reauth(cookie, { password: GOOD_PASSWORD })).statusCode).toBe(204);
    const none = await aal1(false);
    const refused = await reauth(none.cookie, { method: "totp", code: TEST_CODE });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe("invalid_second_factor");
  });
});

describe.each(backendNames())("two_factor rules through the reverse proxy (%s)", (backend) => {
  let p: ProxyHarness;
  const factors = secondFactorDouble();

  beforeAll(async () => {
    p = await startProxyHarness(backend, {}, PROXY_RULES, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
  });
  afterAll(async () => p?.close());

  const get = (cookie: string | undefined, accept?: string) =>
    p.h.request({ method: "GET", url: "/secure?x=1", ...(cookie ? { cookie } : {}), headers: { host: APP_HOST, ...(accept ? { accept } : {}) } });
  const target = encodeURIComponent(`${APP_ORIGIN}/secure?x=1`);

  it("anonymous: the sign-in redirect on the app's host; aal1: the second-factor page on the app's host, or 401 mfa_required; nothing reaches the app", async () => {
    const account = await p.h.account();
    factors.enrolled.add(account.id);
    const before = p.upstream.seen.length;
    const anonymous = await get(undefined, HTML);
    expect(anonymous.statusCode).toBe(302);
    expect(anonymous.headers.location).toBe(`/.gatehouse/login?return=${target}`);
    const browser = await get(account.cookie, HTML);
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe(`/.gatehouse/login/second-factor?return=${target}`);
    const api = await get(account.cookie);
    expect(api.statusCode).toBe(401);
    expect(api.json().code).toBe("mfa_required");
    expect(p.upstream.seen.length).toBe(before);
    // The rest of the app is one_factor.
    expect((await p.h.request({ method: "GET", url: "/home", cookie: account.cookie, headers: { host: APP_HOST } })).statusCode).toBe(200);
  });

  it("aal1 without a second factor: sent to enrol one", async () => {
    const account = await p.h.account();
    const browser = await get(account.cookie, HTML);
    expect(browser.statusCode).toBe(302);
    expect(browser.headers.location).toBe(`/.gatehouse/account/mfa?return=${target}`);
  });

  it("after a step-up on the app's host, the request reaches the app with the identity headers", async () => {
    const account = await p.h.account();
    factors.enrolled.add(account.id);
    const res = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/mfa/verify", json: { method: "totp", code: TEST_CODE }, cookie: account.cookie, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    expect(res.statusCode).toBe(200);
    const cookie = newCookie(res);
    const seen = p.upstream.nextRequest();
    const allowed = await get(cookie, HTML);
    expect(allowed.statusCode).toBe(200);
    const request = await seen;
    expect(request.headers["remote-user"]).toBe(account.name);
    expect(request.headers["remote-groups"]).toBe("user");
    expect((await get(account.cookie)).statusCode).toBe(401);
  });
});
