import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { BanPolicy } from "./ban-policy.js";
import { createClientKey } from "./client-key.js";
import type { LimiterStore } from "./limiter-store.js";
import { accountDelays, ipDelays, type ProtectionPolicy } from "./protection-policy.js";

/** Who is checking a secret, from where. */
export interface CheckContext {
  ip: string;
  userAgent: string;
  requestId?: string;
}

/**
 * The account a secret check is about. `key` is the same for every spelling
 * of one account (its user id when it exists, else the normalized login),
 * so `Admin`, ` admin` and `ADMIN@x` share one counter (RL-02).
 */
export interface CheckSubject {
  key: string;
  userId: string | null;
}

/**
 * The subject of a check, or a lookup that finds it. A lookup runs only after
 * the IP check passed, so a blocked IP costs no database query.
 */
export type SubjectSource = CheckSubject | null | (() => Promise<CheckSubject | null>);

/**
 * Brute-force regulation for every endpoint that checks a secret (login,
 * current-password checks, and later tokens and codes): one mechanism, the
 * same throttles everywhere (RL-04).
 */
export interface SecretRegulator {
  /**
   * Runs `verify` unless the IP or the subject is throttled (429
   * `rate_limited` with Retry-After, before any hashing). The attempt is
   * counted before `verify` runs, so concurrent guesses cannot slip past the
   * limit (RL-07); a success resets both counters. A throttled unknown
   * account answers exactly like a throttled known one.
   */
  check(ctx: CheckContext, subject: SubjectSource, verify: () => Promise<boolean>): Promise<boolean>;
  /** Clears an account's failures and lock (password reset, admin unlock). */
  unlock(subjectKey: string): Promise<void>;
  /** Consecutive failures recorded for an account. */
  failures(subjectKey: string): Promise<number>;
}

/** Creates the {@link SecretRegulator}. */
export function createSecretRegulator(deps: {
  store: LimiterStore;
  clock: Clock;
  audit: AuditLog;
  bans: BanPolicy;
  policy: ProtectionPolicy;
}): SecretRegulator {
  const { store, clock, audit, bans, policy } = deps;
  const forIp = ipDelays(policy);
  const forAccount = accountDelays(policy);
  const lockAt = policy.accountFailures.lockAt;
  // Per client, not per address: one IPv6 /64 (by default) shares one failure counter.
  const clientKey = createClientKey(policy.ipv6PrefixLength);
  const ipKey = (ip: string) => `fail:ip:${clientKey(ip)}`;
  const accountKey = (key: string) => `fail:acct:${key}`;

  async function refuse(ctx: CheckContext, limit: string, retryAfterMs: number): Promise<never> {
    await bans.trip({ ...ctx, limit, countsTowardBan: limit !== "account_failures" });
    throw new GatehouseError("rate_limited", { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
  }

  return {
    async check(ctx, source, verify) {
      const now = clock.now();
      const ip = await store.attempt(ipKey(ctx.ip), forIp, now, policy.failureTtlMs);
      if (!ip.allowed) return refuse(ctx, "ip_failures", ip.retryAfterMs);
      const subject = typeof source === "function" ? await source() : source;
      let account: Awaited<ReturnType<LimiterStore["attempt"]>> | null = null;
      if (subject) {
        account = await store.attempt(accountKey(subject.key), forAccount, now, policy.accountFailures.ttlMs);
        // A locked account is told the longest delay, like any heavily throttled one.
        if (!account.allowed) return refuse(ctx, "account_failures", account.locked ? policy.accountFailures.capMs : account.retryAfterMs);
      }
      const ok = await verify();
      if (ok) {
        await store.reset(ipKey(ctx.ip));
        if (subject) await store.reset(accountKey(subject.key));
      } else if (subject && account && account.count === lockAt) {
        await audit.record({
          type: "account_locked",
          userId: subject.userId,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
          details: { failures: account.count },
        });
      }
      return ok;
    },
    unlock: (subjectKey) => store.reset(accountKey(subjectKey)),
    failures: (subjectKey) => store.failures(accountKey(subjectKey)),
  };
}
