import { describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createSecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import { createSecondFactorGuard } from "../../src/core/mfa/second-factor-guard.js";
import type { SecondFactorVerifier } from "../../src/core/sign-in/second-factors.js";
import { createStepUp } from "../../src/core/sign-in/step-up.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { MIN, origin, useSessionFixture, type SessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

/** The real step-up over the fixture's SQLite sessions, with the second-factor double plus a passkey-like `webauthn` (amr hwk). */
function flow(f: SessionFixture) {
  const audit = createAuditLog({ store: f.stores.audit, clock: f.clock, random: cryptoRandom });
  const limiter = createMemoryLimiterStore();
  const policy = defaultProtectionPolicy;
  const regulator = createSecretRegulator({ store: limiter, clock: f.clock, audit, bans: createBanPolicy({ store: limiter, clock: f.clock, audit, policy }), policy });
  const factors = secondFactorDouble();
  const passkey: SecondFactorVerifier = { amr: "hwk", verify: async (_user, code) => code === "key" };
  const stepUp = createStepUp({
    sessions: f.svc,
    secondFactors: { methodsOf: async (id) => (factors.enrolled.has(id) ? ["totp", "webauthn"] : []) },
    verifiers: new Map([...factors.secondFactorVerifiers, ["webauthn", passkey]]),
    guard: createSecondFactorGuard({ regulator, store: limiter, audit, clock: f.clock, notify: () => undefined }),
    audit,
  });
  return { stepUp, enrolled: factors.enrolled };
}

async function signedIn(f: SessionFixture) {
  const user = await f.stores.users.findById(f.alice);
  if (!user) throw new Error("no alice");
  const issued = await f.svc.create(user.id, origin, false, ["pwd"]);
  return { user, session: issued.session, token: issued.token };
}

describe("step-up: a second factor given by a signed-in session", () => {
  it("rotates the session: a new token (the old one dead), the same expiry, the factor's amr added once, aal2", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const before = await signedIn(fx);
    fx.clock.advance(5 * MIN);
    const issued = await p.stepUp.verify(before, { method: "totp", code: TEST_CODE }, origin);
    expect(issued.token).not.toBe(before.token);
    expect(await fx.svc.validate(issued.token)).not.toBeNull();
    expect(await fx.svc.validate(before.token)).toBeNull();
    expect(issued.session).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"], expiresAt: before.session.expiresAt, reauthAt: before.session.reauthAt });
    // Stepping up again with another kind of factor adds it; the same kind is not repeated.
    const again = await p.stepUp.verify({ user: before.user, session: issued.session }, { method: "totp", code: TEST_CODE }, origin);
    expect(again.session.amr).toEqual(["pwd", "otp"]);
    const key = await p.stepUp.verify({ user: before.user, session: again.session }, { method: "webauthn", code: "key" }, origin);
    expect(key.session.amr).toEqual(["pwd", "otp", "hwk"]);
  });

  it("a wrong code, an unknown method or a user with no factor: invalid_second_factor, and the session is untouched", async () => {
    const p = flow(fx);
    const s = await signedIn(fx);
    await expect(p.stepUp.verify(s, { method: "totp", code: TEST_CODE }, origin)).rejects.toMatchObject({ code: "invalid_second_factor" });
    p.enrolled.add(fx.alice);
    await expect(p.stepUp.verify(s, { method: "totp", code: "123456" }, origin)).rejects.toMatchObject({ code: "invalid_second_factor" });
    await expect(p.stepUp.verify(s, { method: "otp", code: TEST_CODE }, origin)).rejects.toMatchObject({ code: "invalid_second_factor" });
    expect((await fx.svc.validate(s.token))?.session).toMatchObject({ aal: "aal1", amr: ["pwd"] });
  });

  it("re-authentication with a second factor also starts the sudo window", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const s = await signedIn(fx);
    fx.clock.advance(5 * MIN);
    const issued = await p.stepUp.reauthenticate(s, { method: "totp", code: TEST_CODE }, origin);
    expect(issued.session.reauthAt).toBe(fx.clock.now());
    expect(issued.session.aal).toBe("aal2");
  });
});
