import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { passkeyFlows } from "../helpers/passkey-flows.js";
import type { SoftAuthenticator } from "../helpers/soft-authenticator.js";

const MIN = 60_000;

describe.each(backendNames())("attacks on passkey ceremonies (MFA-06, MFA-07) (%s)", (backend) => {
  let h: Harness;
  let flows: ReturnType<typeof passkeyFlows>;

  beforeAll(async () => {
    h = await startHarness(backend);
    flows = passkeyFlows(h);
  });
  afterAll(async () => h?.close());

  /** A fresh account with one software passkey. */
  async function withPasskey(counter?: number): Promise<{ id: string; name: string; cookie: string; auth: SoftAuthenticator }> {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie, counter !== undefined ? { counter } : {});
    return { ...me, auth };
  }

  const refused = (res: { statusCode: number; json(): { code: string } }, code = "invalid_passkey") => {
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe(code);
    expect(sessionCookieFrom(res as never)).toBeNull();
  };

  it("attack: a replayed passwordless assertion → 401 (the challenge served once)", async () => {
    const me = await withPasskey();
    const { options, cookie } = await flows.passwordlessOptions();
    const assertion = me.auth.assert(options);
    expect((await flows.passwordless(cookie, assertion)).statusCode).toBe(200);
    refused(await flows.passwordless(cookie, assertion));
    // Replayed with a fresh challenge cookie of the attacker's own: still bound to the first one.
    const fresh = await flows.passwordlessOptions();
    refused(await flows.passwordless(fresh.cookie, assertion));
  });

  it("attack: a replayed second-factor assertion → 401 on a new pending sign-in", async () => {
    const me = await withPasskey();
    const pending = await flows.pendingLogin(me.name);
    const assertion = me.auth.assert(await flows.secondFactorOptions(pending));
    expect((await flows.verifySecondFactor(pending, assertion)).statusCode).toBe(200);
    const again = await flows.pendingLogin(me.name);
    await flows.secondFactorOptions(again);
    refused(await flows.verifySecondFactor(again, assertion), "invalid_second_factor");
  });

  it("attack: clientData origin https://evil.test → 401 (passwordless, second factor and registration)", async () => {
    const me = await withPasskey();
    const { options, cookie } = await flows.passwordlessOptions();
    refused(await flows.passwordless(cookie, me.auth.assert(options, { origin: "https://evil.test" })));
    const pending = await flows.pendingLogin(me.name);
    refused(await flows.verifySecondFactor(pending, me.auth.assert(await flows.secondFactorOptions(pending), { origin: "https://evil.test" })), "invalid_second_factor");
    const auth = flows.authenticator();
    const reg = await flows.registerResponse(me.cookie, auth.register(await flows.registrationOptions(me.cookie), { origin: "https://evil.test" }));
    expect(reg.statusCode).toBe(400);
    expect(reg.json().code).toBe("passkey_rejected");
  });

  it("attack: an assertion for another RP ID → 401 (and a registration for one → 400)", async () => {
    const me = await withPasskey();
    const { options, cookie } = await flows.passwordlessOptions();
    refused(await flows.passwordless(cookie, me.auth.assert(options, { rpId: "evil.test" })));
    const pending = await flows.pendingLogin(me.name);
    refused(await flows.verifySecondFactor(pending, me.auth.assert(await flows.secondFactorOptions(pending), { rpId: "evil.test" })), "invalid_second_factor");
    const auth = flows.authenticator();
    const reg = await flows.registerResponse(me.cookie, auth.register(await flows.registrationOptions(me.cookie), { rpId: "evil.test" }));
    expect(reg.json().code).toBe("passkey_rejected");
  });

  it("attack: UV=0 on a passwordless sign-in → 401 (user verification is required there), and UP=0 anywhere → 401", async () => {
    const me = await withPasskey();
    const { options, cookie } = await flows.passwordlessOptions();
    refused(await flows.passwordless(cookie, me.auth.assert(options, { uv: false })));
    const pending = await flows.pendingLogin(me.name);
    refused(await flows.verifySecondFactor(pending, me.auth.assert(await flows.secondFactorOptions(pending), { up: false })), "invalid_second_factor");
    // As a second factor after a password, a touch without UV is enough (the password is the other factor).
    const second = await flows.pendingLogin(me.name);
    expect((await flows.verifySecondFactor(second, me.auth.assert(await flows.secondFactorOptions(second), { uv: false }))).statusCode).toBe(200);
  });

  it("attack: another session's challenge → 401 (passwordless cookie, pending sign-in), and a made-up challenge → 401", async () => {
    const me = await withPasskey();
    const victim = await flows.passwordlessOptions();
    const attacker = await flows.passwordlessOptions();
    refused(await flows.passwordless(attacker.cookie, me.auth.assert(victim.options)));
    refused(await flows.passwordless(undefined, me.auth.assert(victim.options)));
    // Two pending sign-ins of the same user: one's challenge does not complete the other.
    const a = await flows.pendingLogin(me.name);
    const b = await flows.pendingLogin(me.name);
    const optionsA = await flows.secondFactorOptions(a);
    refused(await flows.verifySecondFactor(b, me.auth.assert(optionsA)), "invalid_second_factor");
    // A registration challenge is no sign-in challenge.
    const regOptions = await flows.registrationOptions(me.cookie);
    refused(await flows.passwordless(attacker.cookie, me.auth.assert({ challenge: regOptions.challenge })));
    refused(await flows.passwordless(attacker.cookie, me.auth.assert({ challenge: Buffer.alloc(32, 7).toString("base64url") })));
  });

  it("attack: an expired challenge (older than 5 minutes) → 401", async () => {
    const me = await withPasskey();
    const { options, cookie } = await flows.passwordlessOptions();
    h.clock.advance(5 * MIN + 1);
    refused(await flows.passwordless(cookie, me.auth.assert(options)));
    const pending = await flows.pendingLogin(me.name);
    const sfOptions = await flows.secondFactorOptions(pending);
    h.clock.advance(4 * MIN);
    const justInTime = me.auth.assert(sfOptions);
    expect((await flows.verifySecondFactor(pending, justInTime)).statusCode).toBe(200);
  });

  it("attack: a cloned authenticator (stored counter 10, presented 9) → 401 and audit webauthn_counter_regression; the counter is unchanged", async () => {
    const me = await withPasskey(10);
    const { options, cookie } = await flows.passwordlessOptions();
    refused(await flows.passwordless(cookie, me.auth.assert(options, { counter: 9 })));
    const events = await h.gh.stores.audit.list({ userId: me.id, type: "webauthn_counter_regression", limit: 5 });
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toMatchObject({ storedCounter: 10, presentedCounter: 9 });
    // The same counter again is a regression too; only a higher one passes.
    const same = await flows.passwordlessOptions();
    refused(await flows.passwordless(same.cookie, me.auth.assert(same.options, { counter: 10 })));
    const next = await flows.passwordlessOptions();
    expect((await flows.passwordless(next.cookie, me.auth.assert(next.options, { counter: 11 }))).statusCode).toBe(200);
    const stored = await h.gh.database.db.selectFrom("webauthn_credentials").select("counter").where("user_id", "=", me.id).executeTakeFirstOrThrow();
    expect(Number(stored.counter)).toBe(11);
  });

  it("attack: another user's passkey as a second factor → 401 (allowCredentials is only the user's own)", async () => {
    const victim = await withPasskey();
    const attacker = await withPasskey();
    const pending = await flows.pendingLogin(victim.name);
    refused(await flows.verifySecondFactor(pending, attacker.auth.assert(await flows.secondFactorOptions(pending))), "invalid_second_factor");
  });

  it("attack: malformed responses (not JSON, wrong shapes, huge) → 400/401, never a 500", async () => {
    const me = await withPasskey();
    const { cookie } = await flows.passwordlessOptions();
    for (const response of [{}, { id: 1 }, { id: "x", response: { clientDataJSON: "!!" } }, { id: "x", response: { clientDataJSON: Buffer.from("{").toString("base64url") } }]) {
      const res = await flows.passwordless(cookie, response);
      expect(res.statusCode).toBe(401);
    }
    expect((await h.request({ method: "POST", url: "/api/auth/webauthn/verify", json: { response: "x" } })).statusCode).toBe(400);
    const pending = await flows.pendingLogin(me.name);
    const bad = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending, json: { method: "webauthn", code: "{not json" } });
    expect(bad.statusCode).toBe(401);
    const neither = await h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending, json: { method: "webauthn" } });
    expect(neither.statusCode).toBe(400);
  });
});
