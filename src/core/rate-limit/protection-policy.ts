import { DEFAULT_IPV6_PREFIX_LENGTH } from "./client-key.js";

/** A fixed-window limit: at most `limit` requests per `windowMs`. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

/** The named per-route limits of the protection issue. */
export interface RouteLimits {
  /** POST /api/auth/login, per IP (default 10/min). */
  login: WindowLimit;
  /** POST /api/auth/register, per IP (default 5/min). */
  register: WindowLimit;
  /** POST /api/auth/forgot-password, per IP (default 3/min). */
  forgotPassword: WindowLimit;
  /** DELETE /api/account, per user (default 2/min). */
  accountDelete: WindowLimit;
  /** POST /api/account/tokens and the account page's token form, per user (default 5/hour). */
  tokenCreate: WindowLimit;
  /** Every other /api/ route, per user when signed in, else per IP (default 120/min). */
  api: WindowLimit;
}

/** A route's limit name. */
export type RouteLimitName = keyof RouteLimits;

/** Brute-force regulation, automated bans and hashing capacity. */
export interface ProtectionPolicy {
  routes: RouteLimits;
  /** Consecutive failed secret checks from one IP before it is blocked, and for how long (10 / 10 min). */
  ipFailures: { max: number; blockMs: number };
  /**
   * Per account: delays of 2^(n−5) s from the `delayFrom`th consecutive
   * failure, capped; hard lock at `lockAt`. Counters (and so the lock) are
   * kept `ttlMs` after the last attempt (30 days) unless reset.
   */
  accountFailures: { delayFrom: number; capMs: number; lockAt: number; ttlMs: number };
  /** An IP that trips limits `trips` times within `windowMs` is banned for `banMs` (5 / 10 min / 1 h). */
  bans: { trips: number; windowMs: number; banMs: number };
  /** How long an IP's failure counter is kept after its last failure. */
  failureTtlMs: number;
  /**
   * IPv6 clients are keyed by their network of this many bits (default 64,
   * 32–128): per-client limits, regulation and bans cover the whole prefix
   * (see `createClientKey` in client-key.ts).
   */
  ipv6PrefixLength: number;
}

const MINUTE = 60_000;

/** The defaults of the protection issue and docs/security-requirements.md#product-defaults. */
export const defaultProtectionPolicy: ProtectionPolicy = {
  routes: {
    login: { limit: 10, windowMs: MINUTE },
    register: { limit: 5, windowMs: MINUTE },
    forgotPassword: { limit: 3, windowMs: MINUTE },
    accountDelete: { limit: 2, windowMs: MINUTE },
    tokenCreate: { limit: 5, windowMs: 60 * MINUTE },
    api: { limit: 120, windowMs: MINUTE },
  },
  ipFailures: { max: 10, blockMs: 10 * MINUTE },
  accountFailures: { delayFrom: 6, capMs: 15 * MINUTE, lockAt: 100, ttlMs: 30 * 24 * 60 * MINUTE },
  bans: { trips: 5, windowMs: 10 * MINUTE, banMs: 60 * MINUTE },
  failureTtlMs: 24 * 60 * MINUTE,
  ipv6PrefixLength: DEFAULT_IPV6_PREFIX_LENGTH,
};

/** Delays (ms) after n = 1, 2, … failures from one IP: none, then `blockMs` from the `max`th. */
export function ipDelays(policy: ProtectionPolicy): number[] {
  const { max, blockMs } = policy.ipFailures;
  return Array.from({ length: max }, (_, i) => (i + 1 >= max ? blockMs : 0));
}

/**
 * Delays (ms) after n = 1, 2, … failures on one account: 0 below `delayFrom`,
 * then 2^(n−5) s capped at `capMs`, then locked (−1) from `lockAt`.
 */
export function accountDelays(policy: ProtectionPolicy): number[] {
  const { delayFrom, capMs, lockAt } = policy.accountFailures;
  return Array.from({ length: lockAt }, (_, i) => {
    const n = i + 1;
    if (n >= lockAt) return -1;
    if (n < delayFrom) return 0;
    return Math.min(2 ** (n - 5) * 1000, capMs);
  });
}
