import { delayAfter, type AttemptResult, type Ban, type InProcessLimiter, type LimiterStore } from "../../core/rate-limit/limiter-store.js";

interface Entry {
  count: number;
  last: number;
  expiresAt: number;
}

/**
 * The in-process {@link LimiterStore} of the embedded default (one process).
 * JavaScript runs each operation to completion, so they are atomic. Expired
 * entries are swept as they are met and by {@link sweep}.
 */
export function createMemoryLimiterStore(maxKeys = 100_000): LimiterStore & { sweep(now: number): void } {
  const windows = new Map<string, Entry>();
  const regulators = new Map<string, Entry>();
  const bans = new Map<string, number>();

  function live(map: Map<string, Entry>, key: string, now: number): Entry | undefined {
    const entry = map.get(key);
    if (entry && entry.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  function bound(map: Map<string, Entry>): void {
    // Under a flood of distinct keys, drop the oldest rather than grow without limit.
    while (map.size > maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }

  const inProcess: InProcessLimiter = {
    hit(key, windowMs, now) {
      const windowStart = now - (now % windowMs);
      const id = `${key}|${windowStart}`;
      let entry = live(windows, id, now);
      if (entry === undefined) {
        entry = { count: 0, last: now, expiresAt: windowStart + windowMs };
        windows.set(id, entry);
        bound(windows);
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
      const entry = live(regulators, key, now) ?? { count: 0, last: 0, expiresAt: 0 };
      const wait = delayAfter(delays, entry.count);
      if (wait < 0) return { allowed: false, count: entry.count, retryAfterMs: 0, locked: true };
      if (entry.count > 0 && now < entry.last + wait) {
        return { allowed: false, count: entry.count, retryAfterMs: entry.last + wait - now, locked: false };
      }
      entry.count++;
      entry.last = now;
      entry.expiresAt = now + ttlMs;
      regulators.delete(key);
      regulators.set(key, entry);
      bound(regulators);
      return { allowed: true, count: entry.count, retryAfterMs: 0, locked: false };
    },
    async failures(key) {
      return regulators.get(key)?.count ?? 0;
    },
    async reset(key) {
      regulators.delete(key);
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
      for (const map of [windows, regulators]) for (const [k, e] of map) if (e.expiresAt <= now) map.delete(k);
      for (const [ip, until] of bans) if (until <= now) bans.delete(ip);
    },
  };
}
