import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { LimiterStore } from "../rate-limit/limiter-store.js";
import type { CheckContext, SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { User } from "../users/user.js";
import type { NotifyUser } from "./account-notices.js";

/** MFA-03: consecutive wrong second factors that pause the factor, and for how long (5, 15 min). */
export const SECOND_FACTOR_LOCK = { failures: 5, blockMs: 15 * 60_000 } as const;

/**
 * Brute-force regulation for every second-factor check (sign-in, step-up,
 * re-authentication, the first code of an enrolment).
 */
export interface SecondFactorGuard {
  /**
   * Runs `verify` for one attempt by `user` with `method`, and returns its
   * verdict. Refuses with 429 `rate_limited` (before `verify` runs) when the
   * client or the account is throttled by the shared regulator (key
   * `mfa:user:<id>`), or when the account's second factor is paused: after
   * {@link SECOND_FACTOR_LOCK}.failures consecutive wrong codes every code,
   * even a right one, is refused for 15 minutes (MFA-03). A wrong code is
   * audited (`mfa_failure`); the one that pauses the factor records
   * `mfa_locked` and mails the user. A right code clears both counters.
   */
  check(user: Pick<User, "id" | "email">, ctx: CheckContext, method: string, verify: () => Promise<boolean>): Promise<boolean>;
  /** Lifts the pause and forgets the failures (an administrator's reset). */
  unlock(userId: string): Promise<void>;
}

/** Dependencies of {@link createSecondFactorGuard}. */
export interface SecondFactorGuardDeps {
  regulator: SecretRegulator;
  store: LimiterStore;
  audit: AuditLog;
  clock: Clock;
  notify: NotifyUser;
}

/** Creates the {@link SecondFactorGuard}. */
export function createSecondFactorGuard(deps: SecondFactorGuardDeps): SecondFactorGuard {
  const { regulator, store, audit, clock, notify } = deps;
  const lockKey = (userId: string) => `mfa:lock:${userId}`;
  // After n failures the next attempt waits delays[n - 1]: free for the first four, 15 min after the fifth.
  const delays = Array.from({ length: SECOND_FACTOR_LOCK.failures }, (_, i) => (i + 1 >= SECOND_FACTOR_LOCK.failures ? SECOND_FACTOR_LOCK.blockMs : 0));
  const ttlMs = 24 * 60 * 60_000;

  return {
    async check(user, ctx, method, verify) {
      const lock = await store.attempt(lockKey(user.id), delays, clock.now(), ttlMs);
      if (!lock.allowed) throw new GatehouseError("rate_limited", { retryAfter: Math.max(1, Math.ceil(lock.retryAfterMs / 1000)) });
      // A refusal here leaves the attempt counted toward the pause too: the limiter counts pessimistically.
      const admission = await regulator.admit(ctx, { key: `mfa:user:${user.id}`, userId: user.id });
      const ok = await verify();
      await regulator.record(admission, ok);
      if (ok) {
        await store.reset(lockKey(user.id));
        return true;
      }
      const request = ctx.requestId ? { requestId: ctx.requestId } : {};
      await audit.record({ type: "mfa_failure", userId: user.id, details: { method: method.slice(0, 32) }, ip: ctx.ip, userAgent: ctx.userAgent, ...request });
      if (lock.count === SECOND_FACTOR_LOCK.failures) {
        await audit.record({ type: "mfa_locked", userId: user.id, details: { failures: lock.count }, ip: ctx.ip, userAgent: ctx.userAgent, ...request });
        notify("second_factor_locked", user);
      }
      return false;
    },
    unlock: (userId) => store.reset(lockKey(userId)),
  };
}
