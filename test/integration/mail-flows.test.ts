import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, lastLink, MAIL_PUBLIC_URL, requireVerification, startMailHarness, uname } from "../helpers/mail.js";

const NEW_PASSWORD = "harbor-velvet-quartz-77";

describe.each(backendNames())("mail flows over HTTP and real SMTP (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { MAIL_FROM: "Acme Login <login@acme.test>", MAIL_PRODUCT_NAME: "Acme" }));
  });
  afterAll(async () => close());

  describe("forgot and reset password", () => {
    it("mails a reset link for a registered address, and the same 202 for an unknown one (no mail)", async () => {
      const name = uname("rita");
      await h.register(name, GOOD_PASSWORD, `${name}@example.test`);
      const known = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email: `${name.toUpperCase()}@Example.test` } });
      const unknown = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email: `nobody-${name}@example.test` } });
      expect(known.statusCode).toBe(202);
      expect(known.json()).toEqual({ status: "sent_if_registered" });
      expect(unknown.statusCode).toBe(202);
      expect(unknown.body).toBe(known.body);

      const { mail, link } = await lastLink(h, sink, `${name}@example.test`);
      expect(await inbox(h, sink, `nobody-${name}@example.test`)).toHaveLength(0);
      expect(mail.from).toContain("login@acme.test");
      expect(mail.subject).toBe("Reset your Acme password");
      expect(link.startsWith(`${MAIL_PUBLIC_URL}/reset-password#token=`)).toBe(true);
      expect(mail.html).toContain(link);
      expect(mail.text).toContain("60 minutes");
    });

    it("a reset sets the new password, ends every session and API token, signs nobody in, verifies the address and mails a notice", async () => {
      const name = uname("sam");
      const email = `${name}@example.test`;
      const { cookie } = await h.register(name, GOOD_PASSWORD, email);
      const issued = await h.request({ method: "POST", url: "/api/account/tokens", cookie, json: { name: "cli", scopes: ["read:account"] } });
      expect(issued.statusCode, issued.body).toBe(201);
      const secret = issued.json().secret as string;

      // Requesting a reset changes nothing: the old password still works.
      await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
      const { token } = await lastLink(h, sink, email);
      expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } })).statusCode).toBe(200);

      const res = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } });
      expect(res.statusCode, res.body).toBe(204);
      expect(sessionCookieFrom(res)).toBeNull();
      expect(res.headers["referrer-policy"]).toBe("no-referrer");

      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
      expect((await h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${secret}`, origin: null } })).statusCode).toBe(401);
      expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } })).statusCode).toBe(401);
      const login = await h.login(name, NEW_PASSWORD);
      const me = await h.request({ method: "GET", url: "/api/auth/me", cookie: login.cookie });
      expect(me.json().user.emailVerified).toBe(true);

      const mails = await inbox(h, sink, email);
      const notice = mails.at(-1)!;
      expect(notice.subject).toBe("Your Acme password was changed");
      expect(notice.text).not.toContain(NEW_PASSWORD);
      expect(notice.token).toBeNull();
      const audited = await h.gh.database.db.selectFrom("audit_events").select(["type", "details"]).where("user_id", "=", me.json().user.id).execute();
      expect(audited.map((e) => e.type)).toEqual(expect.arrayContaining(["password_reset_requested", "password_reset"]));
      expect(JSON.stringify(audited)).not.toContain(token);
    });

    it("a malformed address is a 400; an address of 50k characters is refused quickly", async () => {
      const res = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email: "not-an-address" } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("invalid_request");
      const t = performance.now();
      const long = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email: `${"a".repeat(50_000)}@x.test` } });
      expect(long.statusCode).toBe(400);
      expect(performance.now() - t).toBeLessThan(100);
    });
  });

  describe("email verification", () => {
    beforeAll(async () => requireVerification(h));
    afterAll(async () => requireVerification(h, false));

    it("register answers 202 without a session, the same for a new and an already registered address", async () => {
      const name = uname("vera");
      const email = `${name}@example.test`;
      const first = await h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email } });
      expect(first.statusCode, first.body).toBe(202);
      expect(first.json()).toEqual({ status: "verification_sent" });
      expect(sessionCookieFrom(first)).toBeNull();

      const again = await h.request({ method: "POST", url: "/api/auth/register", json: { username: uname("mallory"), password: GOOD_PASSWORD, email: email.toUpperCase() } });
      expect(again.statusCode).toBe(202);
      expect(again.body).toBe(first.body);
      expect(sessionCookieFrom(again)).toBeNull();

      const mails = await inbox(h, sink, email);
      // The outbox delivers concurrently: the two mails may arrive in either order.
      expect(mails.map((m) => m.subject).sort()).toEqual(["Confirm your email address for Acme", "You already have a Acme account"]);
      expect(mails.find((m) => m.subject.startsWith("You already have"))!.token).toBeNull();
    });

    it("an unverified user cannot sign in (same answer as a wrong password) until the mailed link is confirmed by POST", async () => {
      const name = uname("una");
      const email = `${name}@example.test`;
      await h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email } });
      const refused = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });
      const wrong = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: "wrong-password-123456" } });
      expect(refused.statusCode).toBe(401);
      expect(refused.body).toBe(wrong.body);

      const { token, link } = await lastLink(h, sink, email);
      expect(link.startsWith(`${MAIL_PUBLIC_URL}/verify-email#token=`)).toBe(true);
      const ok = await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token } });
      expect(ok.statusCode, ok.body).toBe(204);
      const login = await h.login(name);
      const me = await h.request({ method: "GET", url: "/api/auth/me", cookie: login.cookie });
      expect(me.json().user.emailVerified).toBe(true);
      // Single use.
      const reuse = await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token } });
      expect(reuse.statusCode).toBe(400);
      expect(reuse.json().code).toBe("invalid_token");
    });

    it("resend mails a fresh link (the older one dies) and answers the same for unknown addresses", async () => {
      const name = uname("rex");
      const email = `${name}@example.test`;
      await h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email } });
      const { token: old } = await lastLink(h, sink, email);
      const res = await h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email } });
      const unknown = await h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email: `x${email}` } });
      expect(res.statusCode).toBe(202);
      expect(unknown.body).toBe(res.body);
      const { token } = await lastLink(h, sink, email);
      expect(token).not.toBe(old);
      expect((await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token: old } })).statusCode).toBe(400);
      expect((await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token } })).statusCode).toBe(204);
    });

    it("the link expires after 24 hours", async () => {
      const name = uname("eve");
      const email = `${name}@example.test`;
      await h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email } });
      const { token } = await lastLink(h, sink, email);
      h.clock.advance(24 * 3_600_000 + 1000);
      const res = await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token } });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("invalid_token");
    });
  });

  describe("email change", () => {
    it("needs a recent re-authentication, keeps the old address until the new one is confirmed, and tells the old one", async () => {
      const name = uname("cleo");
      const oldEmail = `${name}@example.test`;
      const newEmail = `${name}@new.example.test`;
      const { cookie: first } = await h.register(name, GOOD_PASSWORD, oldEmail);
      h.clock.advance(11 * 60_000); // the sudo window of the registration's session has passed
      const refused = await h.request({ method: "POST", url: "/api/account/email", cookie: first, json: { email: newEmail } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe("reauth_required");

      const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: first, json: { password: GOOD_PASSWORD } });
      expect(reauth.statusCode).toBe(204);
      const cookie = sessionCookieFrom(reauth)!;
      const other = await h.login(name);
      const res = await h.request({ method: "POST", url: "/api/account/email", cookie, json: { email: newEmail } });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toEqual({ status: "verification_sent" });

      const meBefore = await h.request({ method: "GET", url: "/api/auth/me", cookie });
      expect(meBefore.json().user.email).toBe(oldEmail);
      const notice = (await inbox(h, sink, oldEmail)).at(-1)!;
      expect(notice.subject).toBe("The email address of your Acme account is being changed");
      expect(notice.token).toBeNull();

      const { token } = await lastLink(h, sink, newEmail);
      const ok = await h.request({ method: "POST", url: "/api/auth/verify-email", cookie, json: { token } });
      expect(ok.statusCode, ok.body).toBe(204);
      const rotated = sessionCookieFrom(ok);
      expect(rotated).not.toBeNull();
      const me = await h.request({ method: "GET", url: "/api/auth/me", cookie: rotated! });
      expect(me.json().user).toMatchObject({ email: newEmail, emailVerified: true });
      // Other sessions end, and the old cookie was rotated away.
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: other.cookie })).statusCode).toBe(401);
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
    });

    it("a taken new address answers the same; its owner is told, and nothing changes", async () => {
      const owner = uname("olga");
      await h.register(owner, GOOD_PASSWORD, `${owner}@example.test`);
      const name = uname("ivan");
      const { cookie } = await h.register(name, GOOD_PASSWORD, `${name}@example.test`);
      const res = await h.request({ method: "POST", url: "/api/account/email", cookie, json: { email: `${owner}@example.test` } });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ status: "verification_sent" });
      const mails = await inbox(h, sink, `${owner}@example.test`);
      expect(mails.at(-1)!.subject).toBe("You already have a Acme account");
      expect((await inbox(h, sink, `${name}@example.test`)).filter((m) => m.subject.includes("being changed"))).toHaveLength(0);
    });

    it("an email change is refused to API tokens", async () => {
      const name = uname("tok");
      const { cookie } = await h.register(name, GOOD_PASSWORD, `${name}@example.test`);
      const issued = await h.request({ method: "POST", url: "/api/account/tokens", cookie, json: { name: "cli", scopes: ["read:account"] } });
      const res = await h.request({ method: "POST", url: "/api/account/email", headers: { authorization: `Bearer ${issued.json().secret}`, origin: null }, json: { email: `${name}@other.test` } });
      expect(res.statusCode).toBe(403);
    });
  });
});
