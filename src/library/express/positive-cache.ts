/** What a cached "allowed" answer of Gatehouse holds. */
export interface CachedAllow<T> {
  value: T;
  expiresAt: number;
}

/** The middleware's cache of 200 answers; see {@link createPositiveCache}. */
export interface PositiveCache<T> {
  /** The value stored under `key`, or undefined (never stored, expired or evicted). */
  get(key: string): T | undefined;
  set(key: string, value: T): void;
  /** Forgets everything (a revocation notice, a lost subscription). */
  clear(): void;
  size(): number;
}

/** The default and the largest allowed time-to-live of a cached answer, in milliseconds. */
export const DEFAULT_CACHE_TTL_MS = 5_000;
export const MAX_CACHE_TTL_MS = 60_000;
/** The default number of entries kept. */
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

/**
 * A bounded least-recently-used map with a time-to-live: an entry is served
 * for at most `ttlMs` after it was stored, whatever is read, and at most
 * `maxEntries` are kept (the least recently used goes first). Keys are the
 * caller's (digests: no secret is kept as a key).
 */
export function createPositiveCache<T>(options: { ttlMs: number; maxEntries: number; now: () => number }): PositiveCache<T> {
  const entries = new Map<string, CachedAllow<T>>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (options.now() >= entry.expiresAt) return undefined;
      entries.set(key, entry); // most recently used last
      return entry.value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, { value, expiresAt: options.now() + options.ttlMs });
      while (entries.size > options.maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done === true) break;
        entries.delete(oldest.value);
      }
    },
    clear: () => entries.clear(),
    size: () => entries.size,
  };
}
