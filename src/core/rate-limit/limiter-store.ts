/** The outcome of a regulated attempt (see {@link LimiterStore.attempt}). */
export interface AttemptResult {
  /** The attempt may proceed; it has already been counted as a failure. */
  allowed: boolean;
  /** Consecutive failures recorded for the key, this attempt included when allowed. */
  count: number;
  /** When refused: milliseconds until an attempt is allowed again (0 when locked). */
  retryAfterMs: number;
  /** Refused for good, until {@link LimiterStore.reset} (the hard lock). */
  locked: boolean;
}

/** A ban of one client IP. */
export interface Ban {
  ip: string;
  /** Epoch ms at which the ban ends. */
  until: number;
}

/**
 * Atomic counters for rate limits, brute-force regulation and bans. Every
 * operation is atomic per key, across processes when the store is shared
 * (Redis): two instances never both let the 11th attempt through. Times come
 * from the caller's clock, so policies are testable without waiting.
 */
export interface LimiterStore {
  /**
   * Fixed window: counts one hit on `key` in the window of length `windowMs`
   * containing `now`, and returns the hits in that window so far.
   */
  hit(key: string, windowMs: number, now: number): Promise<number>;
  /**
   * A regulated attempt. With `n` consecutive failures recorded, the next
   * attempt must wait `delays[min(n, delays.length) - 1]` ms after the last
   * one (a negative delay means locked). If allowed, it is counted at once,
   * pessimistically, so concurrent attempts cannot slip past the limit; a
   * success then calls {@link reset}. Idle keys expire after `ttlMs`.
   */
  attempt(key: string, delays: readonly number[], now: number, ttlMs: number): Promise<AttemptResult>;
  /** Consecutive failures recorded for `key` (0 if none). */
  failures(key: string): Promise<number>;
  /** Forgets a key's failures (a success, a password reset or an admin unlock). */
  reset(key: string): Promise<void>;
  /** Bans `ip` until `until` (epoch ms). */
  ban(ip: string, until: number): Promise<void>;
  /** The end of `ip`'s ban, or null when it is not banned at `now`. */
  bannedUntil(ip: string, now: number): Promise<number | null>;
  /** Every ban still in force at `now`. */
  listBans(now: number): Promise<Ban[]>;
  /** Lifts a ban; false if there was none. */
  liftBan(ip: string): Promise<boolean>;
  /**
   * Present when the store lives in this process (the embedded default):
   * the two per-request reads answered synchronously, with the same meaning
   * as {@link hit} and {@link bannedUntil}. Callers use it to spare every
   * request a promise; a shared store (Redis) has none and is awaited.
   */
  readonly inProcess?: InProcessLimiter;
}

/** The synchronous per-request operations of an in-process {@link LimiterStore}. */
export interface InProcessLimiter {
  hit(key: string, windowMs: number, now: number): number;
  bannedUntil(ip: string, now: number): number | null;
}

/** The delay, in ms, that `delays` imposes after `count` consecutive failures (0 when none). */
export function delayAfter(delays: readonly number[], count: number): number {
  if (count <= 0 || delays.length === 0) return 0;
  return delays[Math.min(count, delays.length) - 1] ?? 0;
}
