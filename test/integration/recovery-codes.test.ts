import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, pendingCookieFrom, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import { inbox } from "../helpers/mail.js";
import { doubleWithRecoveryCodes, startRecoveryCodesHarness } from "../helpers/recovery-codes.js";
import { TEST_CODE } from "../helpers/second-factor-double.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { WebClient } from "../helpers/web-client.js";

const CODE = /^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}$/;

describe.each(backendNames())("recovery codes through the API and the pages (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: (() => Promise<void>) | undefined;
  const factors = doubleWithRecoveryCodes();

  beforeAll(async () => {
    ({ h, sink, close } = await startRecoveryCodesHarness(backend, factors));
  });
  afterAll(async () => close?.());

  const make = (cookie: string) => h.request({ method: "POST", url: "/api/account/mfa/recovery-codes", cookie });
  const remaining = async (cookie: string) => (await h.request({ method: "GET", url: "/api/account/mfa/recovery-codes", cookie })).json() as { remaining: number };
  const login = (name: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });
  const verify = (pending: string, code: string, method = "recovery_code") => h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method, code }, cookie: pending });

  /** A user with the (test) TOTP factor and a fresh set of recovery codes. */
  async function withCodes() {
    const account = await h.account();
    factors.enrolled.add(account.id);
    const res = await make(account.cookie);
    expect(res.statusCode).toBe(200);
    return { ...account, codes: res.json().codes as string[] };
  }

  it("making codes without a primary second factor: 409 second_factor_required, and none are made", async () => {
    const account = await h.account();
    const res = await make(account.cookie);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: expect.any(String), code: "second_factor_required" });
    expect(await remaining(account.cookie)).toEqual({ remaining: 0 });
  });

  it("POST answers 10 distinct grouped codes once (no-store); GET gives only the count; the database holds Argon2id hashes, never a code", async () => {
    const account = await h.account();
    factors.enrolled.add(account.id);
    const res = await make(account.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const codes = res.json().codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(CODE);
    const read = await h.request({ method: "GET", url: "/api/account/mfa/recovery-codes", cookie: account.cookie });
    expect(read.json()).toEqual({ remaining: 10 });
    const rows = await h.gh.database.db.selectFrom("recovery_codes").selectAll().where("user_id", "=", account.id).execute();
    expect(rows).toHaveLength(10);
    const dump = JSON.stringify(rows);
    for (const c of codes) {
      const compact = c.replace(/-/g, "");
      expect(dump).not.toContain(compact);
      expect(dump).not.toContain(compact.slice(4));
      expect(dump).not.toContain(c);
    }
    for (const r of rows) expect(r.code_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
    expect(rows.map((r) => r.lookup).sort()).toEqual(codes.map((c) => c.slice(0, 4)).sort());
    const made = await h.gh.stores.audit.list({ userId: account.id, type: "mfa_enabled", limit: 5 });
    expect(made.map((e) => e.details)).toEqual([{ method: "recovery_code", codes: 10 }]);
    const mails = await inbox(h, sink, `${account.name}@example.test`);
    expect(mails.filter((m) => m.subject.includes("second factor was added"))).toHaveLength(1);
    for (const c of codes) expect(JSON.stringify(mails)).not.toContain(c);
  });

  it("API tokens can neither read nor make codes; an anonymous caller gets 401", async () => {
    const account = await h.account();
    expect((await h.request({ method: "GET", url: "/api/account/mfa/recovery-codes" })).statusCode).toBe(401);
    expect((await h.request({ method: "POST", url: "/api/account/mfa/recovery-codes" })).statusCode).toBe(401);
    const token = await h.request({ method: "POST", url: "/api/account/tokens", cookie: account.cookie, json: { name: "t", scopes: ["read:account"] } });
    expect(token.statusCode).toBe(201);
    const bearer = { authorization: `Bearer ${token.json().secret as string}` };
    expect((await h.request({ method: "GET", url: "/api/account/mfa/recovery-codes", headers: bearer })).statusCode).toBe(403);
    expect((await h.request({ method: "POST", url: "/api/account/mfa/recovery-codes", headers: bearer })).statusCode).toBe(403);
  });

  it("outside the sudo window: 403 reauth_required; after re-authenticating: 200", async () => {
    const account = await h.account();
    factors.enrolled.add(account.id);
    h.clock.advance(11 * 60_000);
    const refused = await make(account.cookie);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe("reauth_required");
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: account.cookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBe(204);
    const res = await make(sessionCookieFrom(reauth) ?? account.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.json().codes).toHaveLength(10);
  });

  it("sign-in with a recovery code: mfa_required offers it last; the code (any case, no dashes) signs in at aal2 with amr otp; audited with the count left; the user is mailed", async () => {
    const account = await withCodes();
    const started = await login(account.name);
    expect(started.json()).toEqual({ mfa_required: true, methods: ["totp", "recovery_code"] });
    const pending = pendingCookieFrom(started) as string;
    const res = await verify(pending, account.codes[3]!.replace(/-/g, "").toUpperCase());
    expect(res.statusCode).toBe(200);
    const cookie = sessionCookieFrom(res) as string;
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    expect(list.json().sessions.find((s: { current: boolean }) => s.current)).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    const used = await h.gh.stores.audit.list({ userId: account.id, type: "mfa_recovery_used", limit: 5 });
    expect(used).toHaveLength(1);
    expect(used[0]?.details).toEqual({ remaining: 9 });
    expect(JSON.stringify(used)).not.toContain(account.codes[3]!.slice(5));
    expect(await remaining(cookie)).toEqual({ remaining: 9 });
    const mails = await inbox(h, sink, `${account.name}@example.test`);
    expect(mails.filter((m) => m.subject.includes("recovery code"))).toHaveLength(1);
  });

  it("a used code is refused the second time: 401 invalid_second_factor", async () => {
    const account = await withCodes();
    const first = await verify(pendingCookieFrom(await login(account.name)) as string, account.codes[0]!);
    expect(first.statusCode).toBe(200);
    const again = await verify(pendingCookieFrom(await login(account.name)) as string, account.codes[0]!);
    expect(again.statusCode).toBe(401);
    expect(again.json().code).toBe("invalid_second_factor");
  });

  it("after making new codes every old code is refused (401) and the new ones work", async () => {
    const account = await withCodes();
    const fresh = (await make(account.cookie)).json().codes as string[];
    expect(fresh.some((c) => account.codes.includes(c))).toBe(false);
    for (const old of account.codes.slice(0, 2)) {
      const res = await verify(pendingCookieFrom(await login(account.name)) as string, old);
      expect(res.statusCode).toBe(401);
    }
    const res = await verify(pendingCookieFrom(await login(account.name)) as string, fresh[0]!);
    expect(res.statusCode).toBe(200);
  });

  it("the primary factor still works alongside; a code of another user is refused; malformed input is a plain 401", async () => {
    const account = await withCodes();
    const other = await withCodes();
    expect((await verify(pendingCookieFrom(await login(account.name)) as string, other.codes[0]!)).statusCode).toBe(401);
    // Four wrong codes in all (a fifth would pause the factor, MFA-03).
    for (const junk of ["x".repeat(1000), "abcd-efgh", "ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ"]) {
      const res = await verify(pendingCookieFrom(await login(account.name)) as string, junk);
      expect([400, 401]).toContain(res.statusCode);
    }
    expect((await verify(pendingCookieFrom(await login(account.name)) as string, TEST_CODE, "totp")).statusCode).toBe(200);
  });

  it("codes alone are no second factor: without the primary one, sign-in does not ask for them", async () => {
    const account = await withCodes();
    factors.enrolled.delete(account.id);
    const res = await login(account.name);
    expect(res.statusCode).toBe(200);
    expect(res.json().user.id).toBe(account.id);
  });

  it("the pages: the second-factor page offers a recovery code; the account page shows how many are left and makes new ones once, on a page that is not cached", async () => {
    const account = await withCodes();
    const browser = new WebClient(h);
    const first = await browser.signIn(account.name, GOOD_PASSWORD);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain("Use a recovery code");
    expect(first.body).toContain('name="method" value="recovery_code"');
    expect(first.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    const wrong = await browser.post("/login/second-factor", { method: "recovery_code", offered: "totp,recovery_code", code: "0000-0000-0000-0000-0000", return: "/account" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("<details open>");
    expect(wrong.body).toContain('name="method" value="totp"');
    const ok = await browser.post("/login/second-factor", { method: "recovery_code", offered: "totp,recovery_code", code: account.codes[5]!, return: "/account" });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/account");
    const page = await browser.get("/account");
    expect(page.body).toContain("Recovery codes");
    expect(page.body).toMatch(/<strong>9<\/strong> unused codes left/);
    const made = await browser.post("/account/recovery-codes", {});
    expect(made.statusCode).toBe(200);
    expect(made.headers["cache-control"]).toContain("no-store");
    expect(made.headers["referrer-policy"]).toBe("no-referrer");
    const shown = [...made.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(shown).toHaveLength(10);
    for (const c of shown) expect(c).toMatch(CODE);
    expect((await browser.get("/account")).body).toMatch(/<strong>10<\/strong> unused codes left/);
    // Outside the sudo window the action asks for the password again.
    h.clock.advance(11 * 60_000);
    await browser.get("/account");
    const refused = await browser.post("/account/recovery-codes", {});
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("Confirm your password to make new codes.");
    const again = await browser.post("/account/recovery-codes", { password: GOOD_PASSWORD });
    expect(again.statusCode).toBe(200);
    const renewed = [...again.body.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(renewed.some((c) => shown.includes(c))).toBe(false);
  });

  it("the account page of a user without a primary second factor offers no codes", async () => {
    const account = await h.account();
    const page = await h.request({ method: "GET", url: "/account", cookie: account.cookie });
    expect(page.body).toContain("Set up a second factor");
    expect(page.body).not.toContain('action="/account/recovery-codes"');
  });
});
