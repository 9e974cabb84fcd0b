import { GatehouseError } from "../../core/errors.js";
import { delayAfter, type AttemptResult, type Ban, type InProcessLimiter, type LimiterStore } from "../../core/rate-limit/limiter-store.js";

interface Entry {
  count: number;
  last: number;
  expiresAt: number;
}

/** The capacity of a {@link createMemoryLimiterStore}. */
export interface MemoryLimiterOptions {
  /**
   * Live keys each kind of counter may hold: fixed-window counters and
   * regulated attempts (failure counters and account locks) each have their
   * own room of this size (default 100,000). Bans are never refused (see
   * {@link createMemoryLimiterStore}).
   */
  maxKeys?: number;
  /** Told once per episode when a kind of state is full and new keys are being refused. */
  onFull?: (kind: MemoryLimiterKind) => void;
}

/** The bounded rooms of the in-memory store. */
export type MemoryLimiterKind = "counters" | "regulation";

/** Default {@link MemoryLimiterOptions.maxKeys}. */
export const DEFAULT_MEMORY_LIMITER_KEYS = 100_000;

/** A full room sweeps its expired keys at most this often (by the caller's clock), so a flood of refused keys costs no repeated scans. */
const SWEEP_INTERVAL_MS = 1_000;

/** A bounded map that never evicts a live key: when full, only expired keys make room, else a new key is refused. */
interface Room<V> {
  map: Map<string, V>;
  /** Makes room for one new key at `now`, or throws 503 `unavailable` (fail closed). */
  admit(now: number): void;
  sweep(now: number): void;
}

function createRoom<V>(kind: MemoryLimiterKind, maxKeys: number, expiresAt: (v: V) => number, onFull: (kind: MemoryLimiterKind) => void): Room<V> {
  const map = new Map<string, V>();
  let lastSweep = Number.NEGATIVE_INFINITY;
  // The earliest expiry left by the last sweep: when room can be expected again.
  let nextExpiry = Number.POSITIVE_INFINITY;
  let full = false;
  const room: Room<V> = {
    map,
    admit(now) {
      if (map.size < maxKeys) {
        full = false;
        return;
      }
      if (now - lastSweep >= SWEEP_INTERVAL_MS || nextExpiry <= now) room.sweep(now);
      if (map.size < maxKeys) {
        full = false;
        return;
      }
      if (!full) {
        full = true;
        onFull(kind);
      }
      const waitMs = Number.isFinite(nextExpiry) ? nextExpiry - now : 60_000;
      throw new GatehouseError("unavailable", { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) });
    },
    sweep(now) {
      lastSweep = now;
      nextExpiry = Number.POSITIVE_INFINITY;
      for (const [k, v] of map) {
        const at = expiresAt(v);
        if (at <= now) map.delete(k);
        else if (at < nextExpiry) nextExpiry = at;
      }
    },
  };
  return room;
}

/**
 * The in-process {@link LimiterStore} of the embedded default (one process).
 * JavaScript runs each operation to completion, so they are atomic.
 *
 * Memory is bounded without ever forgetting live state: fixed-window
 * counters and regulated attempts (failure counters, account locks) live in
 * two separate rooms of `maxKeys` keys each, and bans in a third map, so a
 * flood of one kind cannot touch another; only expired keys are ever removed
 * (as they are met, by a sweep when a room is full, and by {@link sweep});
 * and a full room refuses a NEW key with 503 `unavailable` (Retry-After:
 * until its earliest key expires) instead of dropping an old one. Keys
 * already present keep working. Bans are not capped: refusing to record one
 * would let its client in (fail open), and each costs its client at least
 * `AUTO_BAN_TRIPS` refused requests and ends by itself.
 */
export function createMemoryLimiterStore(options: MemoryLimiterOptions = {}): LimiterStore & { sweep(now: number): void } {
  const maxKeys = options.maxKeys ?? DEFAULT_MEMORY_LIMITER_KEYS;
  const onFull = options.onFull ?? (() => undefined);
  const windows = createRoom<Entry>("counters", maxKeys, (e) => e.expiresAt, onFull);
  const regulators = createRoom<Entry>("regulation", maxKeys, (e) => e.expiresAt, onFull);
  const bans = new Map<string, number>();

  function live(map: Map<string, Entry>, key: string, now: number): Entry | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  const inProcess: InProcessLimiter = {
    hit(key, windowMs, now) {
      const windowStart = now - (now % windowMs);
      const id = `${key}|${windowStart}`;
      let entry = live(windows.map, id, now);
      if (entry === undefined) {
        windows.admit(now);
        entry = { count: 0, last: now, expiresAt: windowStart + windowMs };
        windows.map.set(id, entry);
      }
      return ++entry.count;
    },
    bannedUntil(ip, now) {
      const until = bans.get(ip);
      if (until === undefined) return null;
      if (until <= now) {
        bans.delete(ip);
        return null;
      }
      return until;
    },
  };

  return {
    inProcess,
    async hit(key, windowMs, now) {
      return inProcess.hit(key, windowMs, now);
    },
    async attempt(key, delays, now, ttlMs): Promise<AttemptResult> {
      let entry = live(regulators.map, key, now);
      const count = entry?.count ?? 0;
      const wait = delayAfter(delays, count);
      if (wait < 0) return { allowed: false, count, retryAfterMs: 0, locked: true };
      if (entry && count > 0 && now < entry.last + wait) {
        return { allowed: false, count, retryAfterMs: entry.last + wait - now, locked: false };
      }
      if (entry === undefined) {
        regulators.admit(now);
        entry = { count: 0, last: 0, expiresAt: 0 };
        regulators.map.set(key, entry);
      }
      entry.count++;
      entry.last = now;
      entry.expiresAt = now + ttlMs;
      return { allowed: true, count: entry.count, retryAfterMs: 0, locked: false };
    },
    async failures(key) {
      return regulators.map.get(key)?.count ?? 0;
    },
    async reset(key) {
      regulators.map.delete(key);
    },
    async ban(ip, until) {
      bans.set(ip, until);
    },
    async bannedUntil(ip, now) {
      return inProcess.bannedUntil(ip, now);
    },
    async listBans(now) {
      const list: Ban[] = [];
      for (const [ip, until] of bans) if (until > now) list.push({ ip, until });
      return list.sort((a, b) => b.until - a.until);
    },
    async liftBan(ip) {
      return bans.delete(ip);
    },
    sweep(now) {
      windows.sweep(now);
      regulators.sweep(now);
      for (const [ip, until] of bans) if (until <= now) bans.delete(ip);
    },
  };
}
