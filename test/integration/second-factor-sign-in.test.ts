import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, pendingCookieFrom, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { WebClient } from "../helpers/web-client.js";

const PENDING = "gatehouse_pending";

describe.each(backendNames())("sign-in with a second factor through the API (%s)", (backend) => {
  let h: Harness;
  const factors = secondFactorDouble();

  beforeAll(async () => {
    h = await startHarness(backend, {}, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers });
  });
  afterAll(async () => h?.close());

  /** A user with the (test) TOTP factor enrolled. */
  async function enrolled() {
    const account = await h.account();
    factors.enrolled.add(account.id);
    return account;
  }
  const login = (name: string, extra: Record<string, unknown> = {}, cookie?: string) =>
    h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD, ...extra }, ...(cookie ? { cookie } : {}) });
  const verify = (cookie: string | undefined, code: string, method = "totp") =>
    h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method, code }, ...(cookie ? { cookie } : {}) });

  it("a user without a second factor signs in at once; the session list shows aal1 and amr [pwd]", async () => {
    const account = await h.account();
    const res = await login(account.name);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.username).toBe(account.name);
    const cookie = sessionCookieFrom(res) as string;
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    const current = list.json().sessions.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ aal: "aal1", amr: ["pwd"] });
  });

  it("a user with one gets 200 {mfa_required, methods} and the pending cookie (HttpOnly, SameSite=Lax, Path=/, Max-Age=300), no session", async () => {
    const account = await enrolled();
    const res = await login(account.name);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ mfa_required: true, methods: ["totp"] });
    expect(sessionCookieFrom(res)).toBeNull();
    const pending = res.cookies.find((c) => c.name === PENDING);
    expect(pending).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", maxAge: 300 });
    expect(pending?.domain).toBeUndefined();
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("the right code completes the sign-in: 200 {user}, a new session cookie, the pending cookie expired; aal2 and amr [pwd, otp] in the session list and the audit log", async () => {
    const account = await enrolled();
    const pending = pendingCookieFrom(await login(account.name)) as string;
    const wrong = await verify(pending, "123456");
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: "The code is incorrect", code: "invalid_second_factor" });
    const res = await verify(pending, TEST_CODE);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({ id: account.id, username: account.name });
    const cookie = sessionCookieFrom(res) as string;
    expect(cookie).not.toBeNull();
    expect(res.cookies.find((c) => c.name === PENDING)?.value).toBe("");
    const me = await h.request({ method: "GET", url: "/api/auth/me", cookie });
    expect(me.statusCode).toBe(200);
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    // The registration's own session (a password alone) and the new one.
    const sessions = list.json().sessions as { current: boolean; aal: string; amr: string[] }[];
    expect(sessions.find((s) => s.current)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    expect(sessions.filter((s) => !s.current)).toEqual([expect.objectContaining({ aal: "aal1", amr: ["pwd"] })]);
    const events = await h.gh.stores.audit.list({ userId: account.id, type: "login_success", limit: 5 });
    expect(events[0]?.details).toMatchObject({ method: "password", aal: "aal2", amr: "pwd otp" });
    expect(await h.gh.stores.audit.list({ userId: account.id, type: "mfa_failure", limit: 5 })).toHaveLength(1);
  });

  it("the account page lists how each session signed in", async () => {
    const account = await enrolled();
    const pending = pendingCookieFrom(await login(account.name)) as string;
    const cookie = sessionCookieFrom(await verify(pending, TEST_CODE)) as string;
    const page = await h.request({ method: "GET", url: "/account", cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("password + code · 2 factors");
  });

  it("verify without a pending cookie, or with an expired one: 401 sign_in_expired", async () => {
    expect((await verify(undefined, TEST_CODE)).json()).toMatchObject({ code: "sign_in_expired" });
    const account = await enrolled();
    const pending = pendingCookieFrom(await login(account.name)) as string;
    h.clock.advance(5 * 60_000);
    const res = await verify(pending, TEST_CODE);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("sign_in_expired");
    expect(res.cookies.find((c) => c.name === PENDING)?.value).toBe("");
  });

  it("verify is a state-changing route: the cross-site rule applies (403 csrf)", async () => {
    const account = await enrolled();
    const pending = pendingCookieFrom(await login(account.name)) as string;
    const res = await h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method: "totp", code: TEST_CODE }, cookie: pending, headers: { origin: "https://evil.test" } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("csrf");
  });

  it("the sign-in form: a password that needs a second factor shows the code form, whose answer signs in and follows the return path", async () => {
    const account = await enrolled();
    const browser = new WebClient(h);
    await browser.get("/login?return=/account");
    const res = await browser.post("/login", { username: account.name, password: GOOD_PASSWORD, return: "/account" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('action="/login/second-factor"');
    expect(browser.session).toBeNull();
    expect(browser.jar.has(PENDING)).toBe(true);
    const wrong = await browser.post("/login/second-factor", { method: "totp", code: "999999", return: "/account" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("The code is incorrect.");
    const done = await browser.post("/login/second-factor", { method: "totp", code: TEST_CODE, return: "/account" });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/account");
    expect(browser.session).not.toBeNull();
    expect(browser.jar.has(PENDING)).toBe(false);
    expect((await browser.get("/account")).statusCode).toBe(200);
  });
});
