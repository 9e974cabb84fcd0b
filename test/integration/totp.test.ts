import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportBackup } from "../../src/backup/export-backup.js";
import { decodeTotpSecret } from "../../src/core/mfa/totp/totp-code.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, pendingCookieFrom, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import { inbox, lastLink, signedInAccount, startMailHarness } from "../helpers/mail.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { WebClient } from "../helpers/web-client.js";

const MIN = 60_000;

/** Every encoding a leaked secret could take in a text. */
function encodingsOf(secret: string): string[] {
  const bytes = Buffer.from(decodeTotpSecret(secret));
  return [secret, secret.toLowerCase(), bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")];
}

describe.each(backendNames())("authenticator app (TOTP) through the API (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void>;
  /** Everything the API answered, but the enrolment answers. */
  const answers: string[] = [];

  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend));
  });
  afterAll(async () => close?.());

  const code = (secret: string, offsetMs = 0) => generate({ secret, epoch: Math.floor((h.clock.now() + offsetMs) / 1000) });
  async function call(method: "GET" | "POST" | "DELETE", url: string, cookie: string, json?: unknown) {
    const res = await h.request({ method, url, cookie, ...(json !== undefined ? { json } : {}) });
    if (!(method === "POST" && url === "/api/account/mfa/totp")) answers.push(JSON.stringify(res.headers) + res.body);
    return res;
  }
  const login = async (name: string) => {
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });
    answers.push(res.body);
    return res;
  };
  const verify = async (pending: string, c: string) => {
    const res = await h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method: "totp", code: c }, cookie: pending });
    answers.push(res.body);
    return res;
  };

  /** A user with a confirmed authenticator app; the clock is then one step on. */
  async function enrolled() {
    const account = await signedInAccount(h, "user");
    const enrol = await call("POST", "/api/account/mfa/totp", account.cookie);
    const { secret } = enrol.json() as { secret: string };
    expect((await call("POST", "/api/account/mfa/totp/confirm", account.cookie, { code: await code(secret) })).statusCode).toBe(200);
    h.clock.advance(30_000);
    return { ...account, secret };
  }

  it("enrol → confirm → sign-in asks for the code → the code gives an aal2 session; its replay is refused (MFA-01, MFA-02)", async () => {
    const account = await signedInAccount(h, "user");
    const me = async (cookie: string) => (await call("GET", "/api/auth/me", cookie)).json().user.mfa as unknown;
    expect(await me(account.cookie)).toEqual({ totp: false, passkeys: 0 });

    const enrol = await call("POST", "/api/account/mfa/totp", account.cookie);
    expect(enrol.statusCode).toBe(200);
    expect(enrol.headers["cache-control"]).toBe("no-store");
    const body = enrol.json() as { secret: string; otpauthUrl: string; qrSvg: string };
    expect(Object.keys(body).sort()).toEqual(["otpauthUrl", "qrSvg", "secret"]);
    expect(decodeTotpSecret(body.secret)).toHaveLength(20);
    expect(decodeURIComponent(body.otpauthUrl)).toContain(`otpauth://totp/Gatehouse:${account.name}?secret=${body.secret}`);
    expect(body.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(body.qrSvg).not.toMatch(/style=|<script/i);

    // Not active yet: signing in needs no code.
    expect((await login(account.name)).json().user?.username).toBe(account.name);
    expect(await me(account.cookie)).toEqual({ totp: false, passkeys: 0 });

    const right = await code(body.secret);
    const wrong = right === "000000" ? "111111" : "000000";
    const refused = await call("POST", "/api/account/mfa/totp/confirm", account.cookie, { code: wrong });
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: "The code is incorrect", code: "invalid_second_factor" });
    const confirmed = await call("POST", "/api/account/mfa/totp/confirm", account.cookie, { code: right });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({ enabled: true });
    expect(await me(account.cookie)).toEqual({ totp: true, passkeys: 0 });
    const [enabled] = await h.gh.stores.audit.list({ userId: account.id, type: "mfa_enabled", limit: 5 });
    expect(enabled?.details).toEqual({ method: "totp" });
    const mails = await inbox(h, sink, `${account.name}@example.test`);
    expect(mails.map((m) => m.subject)).toContain("A second factor was added to your Gatehouse account");

    // The code that confirmed cannot also sign in (same step); the next step's can.
    const first = await login(account.name);
    expect(first.json()).toEqual({ mfa_required: true, methods: expect.arrayContaining(["totp"]) });
    expect(sessionCookieFrom(first)).toBeNull();
    const pending = pendingCookieFrom(first) as string;
    expect(pending).not.toBeNull();
    const early = await verify(pending, right);
    expect(early.statusCode).toBe(401);
    expect(early.json().code).toBe("invalid_second_factor");
    h.clock.advance(30_000);
    const next = await code(body.secret);
    const done = await verify(pending, next);
    expect(done.statusCode, done.body).toBe(200);
    const session = sessionCookieFrom(done) as string;
    const current = (await call("GET", "/api/account/sessions", session)).json().sessions.find((s: { current: boolean }) => s.current);
    expect(current).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });

    // attack: replay — the same code in another sign-in is refused.
    const again = pendingCookieFrom(await login(account.name)) as string;
    const replay = await verify(again, next);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe("invalid_second_factor");
  });

  it("bad input to confirm is a 400 naming the problem, never a 500", async () => {
    const account = await signedInAccount(h, "user");
    await call("POST", "/api/account/mfa/totp", account.cookie);
    for (const json of [{}, { code: "" }, { code: "12345" }, { code: "1234567" }, { code: "12a456" }, { code: "9".repeat(2_000) }, { code: 123456 }, { code: null }, { code: "123456", extra: 1 }]) {
      const res = await call("POST", "/api/account/mfa/totp/confirm", account.cookie, json);
      expect(res.statusCode, JSON.stringify(json).slice(0, 40)).toBe(400);
      expect(res.json().code).toBe("invalid_request");
    }
    const noEnrolment = await signedInAccount(h, "user");
    const res = await call("POST", "/api/account/mfa/totp/confirm", noEnrolment.cookie, { code: "123456" });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("enrolment_not_started");
  });

  it("anonymous callers get 401; enrolling again with a factor already on needs a recent re-authentication", async () => {
    expect((await h.request({ method: "POST", url: "/api/account/mfa/totp" })).statusCode).toBe(401);
    expect((await h.request({ method: "DELETE", url: "/api/account/mfa/totp" })).statusCode).toBe(401);
    const account = await enrolled();
    h.clock.advance(11 * MIN);
    const stale = await call("POST", "/api/account/mfa/totp", account.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
  });

  it("re-enrolment: the old app keeps working until the new one is confirmed; then its codes are refused at sign-in (401)", async () => {
    const account = await enrolled();
    const second = (await call("POST", "/api/account/mfa/totp", account.cookie)).json() as { secret: string };
    expect(second.secret).not.toBe(account.secret);
    expect((await call("POST", "/api/account/mfa/totp/confirm", account.cookie, { code: await code(second.secret) })).statusCode).toBe(200);
    h.clock.advance(30_000);
    const pending = pendingCookieFrom(await login(account.name)) as string;
    expect((await verify(pending, await code(account.secret))).statusCode).toBe(401);
    expect((await verify(pending, await code(second.secret))).statusCode).toBe(200);
  });

  it("DELETE needs a recent re-authentication (403 reauth_required), then removes the factor: 204, audited, mailed, sign-in needs no code", async () => {
    const account = await enrolled();
    h.clock.advance(11 * MIN);
    const stale = await call("DELETE", "/api/account/mfa/totp", account.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    expect(await h.gh.totp.isEnrolled(account.id)).toBe(true);
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: account.cookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBe(204);
    const fresh = sessionCookieFrom(reauth) as string;
    const removed = await call("DELETE", "/api/account/mfa/totp", fresh);
    expect(removed.statusCode).toBe(204);
    expect((await h.gh.stores.audit.list({ userId: account.id, type: "mfa_disabled", limit: 5 }))[0]?.details).toEqual({ method: "totp" });
    const mails = await inbox(h, sink, `${account.name}@example.test`);
    expect(mails.map((m) => m.subject)).toContain("A second factor was removed from your Gatehouse account");
    expect((await login(account.name)).json().user?.username).toBe(account.name);
    expect((await call("DELETE", "/api/account/mfa/totp", fresh)).statusCode).toBe(404);
  });

  it("attack: dropping the second factor through a password reset (RST-05) — the reset signs nobody in, and the new password still stops at the code", async () => {
    const account = await enrolled();
    const email = `${account.name}@example.test`;
    await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    const { token } = await lastLink(h, sink, email);
    const NEW_PASSWORD = "quartz-meadow-harbor-77";
    const reset = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } });
    expect(reset.statusCode, reset.body).toBe(204);
    expect(sessionCookieFrom(reset)).toBeNull();
    expect(await h.gh.totp.isEnrolled(account.id)).toBe(true);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: account.name, password: NEW_PASSWORD } });
    expect(login.json()).toEqual({ mfa_required: true, methods: ["totp"] });
    expect(sessionCookieFrom(login)).toBeNull();
  });

  it("secrets never reach the logs, any other answer or a backup (the database and backup hold envelopes only)", async () => {
    const account = await enrolled();
    const secrets = [account.secret];
    for (const row of await h.gh.database.db.selectFrom("user_secrets").select("secret_envelope").execute()) {
      for (const s of secrets) for (const form of encodingsOf(s)) expect(row.secret_envelope).not.toContain(form);
    }
    const backup = (await exportBackup(h.gh.database.db, { now: h.clock.now() })).toString("utf8");
    expect(JSON.parse(backup).tables.totp_factors).toEqual(expect.arrayContaining([expect.objectContaining({ user_id: account.id })]));
    const logs = h.logs.text();
    const everything = answers.join("\n");
    for (const s of secrets) {
      for (const form of encodingsOf(s)) {
        expect(logs).not.toContain(form);
        expect(everything).not.toContain(form);
        expect(backup).not.toContain(form);
      }
    }
  });
});

describe.each(backendNames())("authenticator app (TOTP) through the pages (%s)", (backend) => {
  let h: Harness;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ h, close } = await startMailHarness(backend));
  });
  afterAll(async () => close?.());

  const code = (secret: string) => generate({ secret, epoch: Math.floor(h.clock.now() / 1000) });
  const secretOf = (page: string) => (/id="totp-secret">([A-Z2-7 ]+)<\/code>/.exec(page)?.[1] ?? "").replaceAll(" ", "");

  it("set up from /account: QR code inline (no style, no script), the key as text, the first code turns it on; sign-in then asks for the code; removal asks for the password", async () => {
    const account = await signedInAccount(h, "user");
    const browser = new WebClient(h);
    expect((await browser.signIn(account.name, GOOD_PASSWORD)).statusCode).toBe(303);

    const home = await browser.get("/account");
    expect(home.body).toContain("Two-factor authentication");
    expect(home.body).toContain('href="/account/mfa/totp"');

    const intro = await browser.get("/account/mfa/totp");
    expect(intro.statusCode).toBe(200);
    expect(intro.body).toContain("Begin setup");
    expect(intro.body).not.toContain("<svg");

    const setup = await browser.post("/account/mfa/totp", {});
    expect(setup.statusCode).toBe(200);
    expect(setup.headers["cache-control"]).toBe("no-store");
    expect(setup.headers["referrer-policy"]).toBe("no-referrer");
    expect(String(setup.headers["content-security-policy"])).toContain("default-src");
    const svg = /<svg[\s\S]*?<\/svg>/.exec(setup.body)?.[0] ?? "";
    expect(svg).toContain("<path");
    expect(svg).not.toMatch(/style=|<script|on[a-z]+=/i);
    const secret = secretOf(setup.body);
    expect(decodeTotpSecret(secret)).toHaveLength(20);

    const bad = await browser.post("/account/mfa/totp/confirm", { code: "abc" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("Enter the 6 digits the app shows.");
    expect(secretOf(bad.body)).toBe(secret);
    const right = await code(secret);
    const wrong = await browser.post("/account/mfa/totp/confirm", { code: right === "000000" ? "111111" : "000000" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain("That code is not right.");
    // Spaces as the app shows them are fine.
    const on = await browser.post("/account/mfa/totp/confirm", { code: `${right.slice(0, 3)} ${right.slice(3)}` });
    expect(on.statusCode).toBe(303);
    expect(on.headers.location).toBe("/account?notice=totp_enabled");
    const after = await browser.get("/account?notice=totp_enabled");
    expect(after.body).toContain("Your authenticator app is set up");
    expect(after.body).toContain('action="/account/mfa/totp/remove"');
    expect(after.body).not.toContain(secret);

    // Sign-in through the form now asks for the code.
    h.clock.advance(30_000);
    const other = new WebClient(h);
    const step = await other.signIn(account.name, GOOD_PASSWORD);
    expect(step.statusCode).toBe(200);
    expect(step.body).toContain('action="/login/second-factor"');
    const signedIn = await other.post("/login/second-factor", { method: "totp", code: await code(secret), return: "/account" });
    expect(signedIn.statusCode).toBe(303);
    expect(other.session).not.toBeNull();

    // Removal after the sudo window: the password is asked for.
    h.clock.advance(11 * MIN);
    const page = await browser.get("/account");
    expect(page.body).toContain('id="f-totp-password"');
    const refused = await browser.post("/account/mfa/totp/remove", {});
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("Confirm your password to remove the app.");
    expect(await h.gh.totp.isEnrolled(account.id)).toBe(true);
    const wrongPassword = await browser.post("/account/mfa/totp/remove", { password: "not-the-password-1" });
    expect(wrongPassword.statusCode).toBe(403);
    const removed = await browser.post("/account/mfa/totp/remove", { password: GOOD_PASSWORD });
    expect(removed.statusCode).toBe(303);
    expect(removed.headers.location).toBe("/account?notice=totp_removed");
    expect(await h.gh.totp.isEnrolled(account.id)).toBe(false);
    expect(h.logs.text()).not.toContain(secret);
  });

  it("a form post without the page's token is refused (403), and nothing is enrolled", async () => {
    const account = await signedInAccount(h, "user");
    const browser = new WebClient(h);
    await browser.signIn(account.name, GOOD_PASSWORD);
    const res = await browser.post("/account/mfa/totp", { _csrf: "forged" });
    expect(res.statusCode).toBe(403);
    expect(await h.gh.userSecrets.get(account.id, "totp_pending")).toBeNull();
  });
});
