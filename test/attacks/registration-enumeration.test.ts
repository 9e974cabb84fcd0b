import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, requireVerification, signedInAccount, startMailHarness, uname } from "../helpers/mail.js";

const IGNORED_HEADERS = new Set(["date", "x-request-id", "content-length"]);

/** What an attacker compares: status, body bytes, the set of header names, whether a cookie came. */
function fingerprint(res: LightMyRequestResponse) {
  return {
    status: res.statusCode,
    body: res.body,
    headerNames: Object.keys(res.headers).map((k) => k.toLowerCase()).filter((k) => !IGNORED_HEADERS.has(k)).sort(),
    cookie: sessionCookieFrom(res) !== null,
  };
}

describe.each(backendNames())("attack: account enumeration through registration answers (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  /** An existing account the attacker probes for. */
  let known: { name: string; email: string };
  const register = (json: Record<string, unknown>) => h.request({ method: "POST", url: "/api/auth/register", json: { password: GOOD_PASSWORD, ...json } });
  const setMode = async (registration: "open" | "invite" | "closed") => {
    const root = await signedInAccount(h, "superadmin", false);
    await h.gh.settings.update(root.id, { registration }, { ip: "127.0.0.1", userAgent: "test" });
  };
  const users = () => h.gh.stores.users.count();

  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { REGISTRATION: "open", MAIL_PRODUCT_NAME: "Acme" }));
    const name = uname("known");
    known = { name, email: `${name}@example.test` };
    await h.gh.accounts.register({ username: name, password: GOOD_PASSWORD, email: known.email }, { ip: "127.0.0.1", userAgent: "test" }, { signIn: false });
  });
  afterAll(async () => close());

  describe("open registration with email verification required", () => {
    beforeAll(async () => requireVerification(h));
    afterAll(async () => requireVerification(h, false));

    it("a taken email, a taken username and a fresh account get byte-identical answers (202, no cookie); the news goes by mail", async () => {
      const fresh = uname("fresh");
      const takenUsernameAddress = `${uname("other")}@example.test`;
      const before = await users();
      const cases = {
        fresh: await register({ username: fresh, email: `${fresh}@example.test` }),
        takenEmail: await register({ username: uname("probe"), email: known.email }),
        takenEmailOtherCase: await register({ username: uname("probe"), email: known.email.toUpperCase() }),
        takenUsername: await register({ username: known.name, email: takenUsernameAddress }),
        takenUsernameOtherCase: await register({ username: known.name.toUpperCase(), email: takenUsernameAddress }),
        takenBoth: await register({ username: known.name, email: known.email }),
      };
      const reference = fingerprint(cases.fresh);
      expect(reference.status).toBe(202);
      expect(JSON.parse(reference.body)).toEqual({ status: "verification_sent" });
      for (const [name, res] of Object.entries(cases)) expect(fingerprint(res), name).toEqual(reference);

      // Only the fresh account was created; the owners of the addresses learn the rest by mail.
      await h.gh.mail.flush();
      expect(await users()).toBe(before + 1);
      expect((await inbox(h, sink, `${fresh}@example.test`)).map((m) => m.subject)).toEqual(["Confirm your email address for Acme"]);
      expect((await inbox(h, sink, known.email)).map((m) => m.subject)).toEqual(expect.arrayContaining(["You already have a Acme account"]));
      const told = await inbox(h, sink, takenUsernameAddress);
      expect(told.map((m) => m.subject)).toContain("Choose another username for Acme");
      expect(told.every((m) => m.token === null && !m.text.includes(known.name))).toBe(true);
    });

    it("invalid input is still refused at once (it depends on the input only, never on accounts)", async () => {
      const res = await register({ username: "x", email: known.email });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: "invalid_request", fields: ["username"] });
    });
  });

  describe("open registration without email verification (documented oracle)", () => {
    it("a taken username or email answers 409 username_taken / email_taken", async () => {
      const u = await register({ username: known.name.toUpperCase(), email: `${uname("x")}@example.test` });
      expect(u.statusCode).toBe(409);
      expect(u.json()).toEqual({ error: expect.any(String), code: "username_taken", fields: ["username"] });
      const e = await register({ username: uname("y"), email: known.email });
      expect(e.statusCode).toBe(409);
      expect(e.json()).toEqual({ error: expect.any(String), code: "email_taken", fields: ["email"] });
    });
  });

  describe("closed or invite-only registration", () => {
    afterAll(async () => setMode("open"));

    it.each(["closed", "invite"] as const)("%s: 403 registration_closed whether or not the name or the address exists (no oracle)", async (mode) => {
      await setMode(mode);
      h.clock.advance(6_000);
      const before = await users();
      const fresh = uname("nobody");
      const cases = {
        fresh: await register({ username: fresh, email: `${fresh}@example.test` }),
        takenUsername: await register({ username: known.name, email: `${fresh}@example.test` }),
        takenEmail: await register({ username: fresh, email: known.email }),
        takenBoth: await register({ username: known.name, email: known.email }),
      };
      const reference = fingerprint(cases.fresh);
      expect(reference.status).toBe(403);
      expect(JSON.parse(reference.body)).toMatchObject({ code: "registration_closed" });
      for (const [name, res] of Object.entries(cases)) expect(fingerprint(res), name).toEqual(reference);
      expect(await users()).toBe(before);
    });

    it("an invited registration with a taken username answers 409 (the invitee is a known person; documented)", async () => {
      await setMode("closed");
      const email = `${uname("invitee")}@example.test`;
      const { link } = await h.gh.invitations.create({ user: null, origin: { ip: "127.0.0.1", userAgent: "test" } }, { email, role: "user" });
      const token = new URL(link).hash.replace(/^#token=/, "");
      const res = await register({ username: known.name, email, invitation: token });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe("username_taken");
      // The invitation was not used up by the refusal.
      const ok = await register({ username: uname("invitee"), email, invitation: token });
      expect(ok.statusCode, ok.body).toBe(201);
    });
  });
});
