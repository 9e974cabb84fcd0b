import { describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import { GatehouseError } from "../../src/core/errors.js";
import type { SecondFactorNotice } from "../../src/core/mfa/account-notices.js";
import { createSecondFactorGuard, SECOND_FACTOR_LOCK } from "../../src/core/mfa/second-factor-guard.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createSecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { MIN, origin, useSessionFixture, type SessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

function guardOf(f: SessionFixture) {
  const audit = createAuditLog({ store: f.stores.audit, clock: f.clock, random: cryptoRandom });
  const limiter = createMemoryLimiterStore();
  const policy = defaultProtectionPolicy;
  const regulator = createSecretRegulator({ store: limiter, clock: f.clock, audit, bans: createBanPolicy({ store: limiter, clock: f.clock, audit, policy }), policy });
  const notices: { kind: SecondFactorNotice; email: string | null }[] = [];
  const guard = createSecondFactorGuard({ regulator, store: limiter, audit, clock: f.clock, notify: (kind, user) => notices.push({ kind, email: user.email }) });
  const user = { id: f.alice, email: "alice@example.com" };
  const events = (type: string) => f.stores.audit.list({ userId: f.alice, type, limit: 20 });
  return { guard, user, notices, events };
}

async function refusal(p: Promise<unknown>): Promise<GatehouseError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof GatehouseError)) throw new Error(`expected a GatehouseError, got ${String(err)}`);
  return err;
}

describe("second factors pause after five wrong codes (MFA-03)", () => {
  it("attack: brute force on codes — the 6th attempt, even with the right code, is refused (429) for 15 min, audited and mailed", async () => {
    const g = guardOf(fx);
    for (let i = 0; i < SECOND_FACTOR_LOCK.failures; i++) expect(await g.guard.check(g.user, origin, "totp", async () => false)).toBe(false);
    let ran = false;
    const err = await refusal(g.guard.check(g.user, origin, "totp", async () => ((ran = true), true)));
    expect(err.code).toBe("rate_limited");
    expect(ran).toBe(false);
    expect(err.status).toBe(429);
    expect((await g.events("mfa_failure"))).toHaveLength(5);
    expect((await g.events("mfa_locked"))).toHaveLength(1);
    expect(g.notices).toEqual([{ kind: "second_factor_locked", email: "alice@example.com" }]);
    // Still paused just before 15 minutes, open after.
    fx.clock.advance(15 * MIN - 1000);
    expect((await refusal(g.guard.check(g.user, origin, "totp", async () => true))).code).toBe("rate_limited");
    fx.clock.advance(15 * MIN + 1000);
    expect(await g.guard.check(g.user, origin, "totp", async () => true)).toBe(true);
  });

  it("a right code clears the count: four wrong, one right, four wrong is not a pause", async () => {
    const g = guardOf(fx);
    for (let i = 0; i < 4; i++) await g.guard.check(g.user, origin, "recovery_code", async () => false);
    expect(await g.guard.check(g.user, origin, "totp", async () => true)).toBe(true);
    for (let i = 0; i < 4; i++) await g.guard.check(g.user, origin, "totp", async () => false);
    expect(await g.guard.check(g.user, origin, "totp", async () => true)).toBe(true);
    expect(g.notices).toEqual([]);
  });

  it("an administrator's unlock lifts the pause at once", async () => {
    const g = guardOf(fx);
    for (let i = 0; i < SECOND_FACTOR_LOCK.failures; i++) await g.guard.check(g.user, origin, "totp", async () => false);
    await g.guard.unlock(g.user.id);
    expect(await g.guard.check(g.user, origin, "totp", async () => true)).toBe(true);
  });

  it("the method a client names is cut to 32 characters in the audit log", async () => {
    const g = guardOf(fx);
    await g.guard.check(g.user, origin, "x".repeat(500), async () => false);
    expect((await g.events("mfa_failure"))[0]?.details).toEqual({ method: "x".repeat(32) });
  });
});
