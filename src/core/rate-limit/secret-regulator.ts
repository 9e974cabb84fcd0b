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
 * the IP check passed, so a blocked IP costs no database query. A lookup may
 * return more than the subject (the user it found): the caller reads it back
 * from {@link Admission.subject}, typed.
 */
export type SubjectSource<S extends CheckSubject | null = CheckSubject | null> = S | (() => Promise<S>);

/**
 * A secret check let through by {@link SecretRegulator.admit}: the attempt is
 * already counted as a failure, and stays one unless
 * {@link SecretRegulator.record} is told the secret was right.
 */
export interface Admission<S extends CheckSubject | null = CheckSubject | null> {
  readonly ctx: CheckContext;
  /** The account checked (what the lookup returned), or null for a check of the client alone. */
  readonly subject: S;
  /** The account's consecutive failures counting this attempt (0 without a subject). */
  readonly failures: number;
}

/**
 * Brute-force regulation for every endpoint that checks a secret (login,
 * current-password checks, reset, verification, invitation, setup and API
 * tokens): one mechanism, the same throttles everywhere (RL-04). A check is
 * two explicit steps: {@link SecretRegulator.admit} before the secret is
 * compared, {@link SecretRegulator.record} with the verdict after.
 */
export interface SecretRegulator {
  /**
   * Step one: throws 429 `rate_limited` (with Retry-After, before any
   * hashing) when the IP or the subject is throttled or locked; otherwise
   * counts the attempt as a failure and admits it. Counting before the secret
   * is compared means concurrent guesses cannot slip past the limit (RL-07).
   * A throttled unknown account answers exactly like a throttled known one.
   */
  admit<S extends CheckSubject | null>(ctx: CheckContext, subject: SubjectSource<S>): Promise<Admission<S>>;
  /**
   * Step two: the verdict of an admitted check. A right secret resets the IP's
   * and the account's counters; a wrong one leaves the failure counted and
   * records `account_locked` when it is the one that locks the account. Each
   * admission takes one verdict; one never recorded stays a failure.
   */
  record(admission: Admission, verdict: boolean): Promise<void>;
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

  // Admissions still waiting for their verdict: a second verdict for one admission is a bug, not a reset.
  const pending = new WeakSet<Admission>();

  return {
    async admit<S extends CheckSubject | null>(ctx: CheckContext, source: SubjectSource<S>): Promise<Admission<S>> {
      const now = clock.now();
      const ip = await store.attempt(ipKey(ctx.ip), forIp, now, policy.failureTtlMs);
      if (!ip.allowed) return refuse(ctx, "ip_failures", ip.retryAfterMs);
      const subject = typeof source === "function" ? await source() : source;
      let failures = 0;
      if (subject !== null) {
        const account = await store.attempt(accountKey(subject.key), forAccount, now, policy.accountFailures.ttlMs);
        // A locked account is told the longest delay, like any heavily throttled one.
        if (!account.allowed) return refuse(ctx, "account_failures", account.locked ? policy.accountFailures.capMs : account.retryAfterMs);
        failures = account.count;
      }
      const admission: Admission<S> = { ctx, subject, failures };
      pending.add(admission);
      return admission;
    },
    async record(admission, verdict) {
      if (!pending.delete(admission)) throw new Error("a secret check's verdict was recorded twice, or without an admission");
      const { ctx, subject } = admission;
      if (verdict) {
        await store.reset(ipKey(ctx.ip));
        if (subject !== null) await store.reset(accountKey(subject.key));
      } else if (subject !== null && admission.failures === lockAt) {
        await audit.record({
          type: "account_locked",
          userId: subject.userId,
          ip: ctx.ip,
          userAgent: ctx.userAgent,
          ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
          details: { failures: admission.failures },
        });
      }
    },
    unlock: (subjectKey) => store.reset(accountKey(subjectKey)),
    failures: (subjectKey) => store.failures(accountKey(subjectKey)),
  };
}
