import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatehouseError, isGatehouseError } from "../../src/core/errors.js";
import { failClosed } from "../../src/core/rate-limit/fail-closed-store.js";
import { delayAfter, type LimiterStore } from "../../src/core/rate-limit/limiter-store.js";
import { accountDelays, defaultProtectionPolicy, ipDelays } from "../../src/core/rate-limit/protection-policy.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { createRedisLimiterStore } from "../../src/storage/redis/redis-limiter-store.js";
import { limiterBackendNames, REDIS_URL, redisTestPrefix } from "../helpers/backends.js";
import { startPrivateRedis, type PrivateRedis } from "../helpers/private-redis.js";

/** A minute boundary, so fixed windows start exactly here. */
const T0 = 1_767_225_600_000;
const MINUTE = 60_000;
const TTL = 3_600_000;

let seq = 0;
/** A key no other test touches. */
const key = (label: string) => `${label}:${++seq}`;

describe("delayAfter and the default delay tables", () => {
  it("no delay before the first failure; the table's last entry holds beyond its end", () => {
    expect(delayAfter([0, 5, 9], 0)).toBe(0);
    expect(delayAfter([0, 5, 9], 1)).toBe(0);
    expect(delayAfter([0, 5, 9], 2)).toBe(5);
    expect(delayAfter([0, 5, 9], 50)).toBe(9);
    expect(delayAfter([], 7)).toBe(0);
  });

  it("per IP: nine free failures, then a 10-minute block (RL-01)", () => {
    const d = ipDelays(defaultProtectionPolicy);
    expect(d).toHaveLength(10);
    expect(d.slice(0, 9).every((x) => x === 0)).toBe(true);
    expect(d[9]).toBe(600_000);
  });

  it("per account: 2^(n-5) s from the 6th failure, capped at 15 min, locked at 100 (RL-02)", () => {
    const d = accountDelays(defaultProtectionPolicy);
    expect(d.slice(0, 5)).toEqual([0, 0, 0, 0, 0]);
    expect(d.slice(5, 9)).toEqual([2_000, 4_000, 8_000, 16_000]);
    expect(d[14]).toBe(900_000); // 2^10 s = 1024 s, capped
    expect(Math.max(...d)).toBe(900_000);
    expect(d[98]).toBe(900_000);
    expect(d[99]).toBe(-1);
  });
});

describe.each(limiterBackendNames())("LimiterStore conformance (%s)", (backendName) => {
  let store: LimiterStore;
  let redis: Redis | null = null;
  let prefix = "";

  beforeAll(async () => {
    if (backendName === "memory") {
      store = createMemoryLimiterStore();
    } else {
      redis = new Redis(REDIS_URL);
      prefix = redisTestPrefix();
      store = createRedisLimiterStore(redis, prefix);
    }
  });
  afterAll(async () => {
    if (!redis) return;
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  describe("hit(): fixed windows", () => {
    it("counts the hits of one window", async () => {
      const k = key("hit");
      expect(await store.hit(k, MINUTE, T0)).toBe(1);
      expect(await store.hit(k, MINUTE, T0 + 1_000)).toBe(2);
      expect(await store.hit(k, MINUTE, T0 + MINUTE - 1)).toBe(3);
    });

    it("a new window starts again at 1", async () => {
      const k = key("hit");
      for (let i = 0; i < 4; i++) await store.hit(k, MINUTE, T0 + 10_000);
      expect(await store.hit(k, MINUTE, T0 + MINUTE)).toBe(1);
      expect(await store.hit(k, MINUTE, T0 + MINUTE + 59_999)).toBe(2);
      expect(await store.hit(k, MINUTE, T0 + 5 * MINUTE + 3)).toBe(1);
    });

    it("keys are independent, and so are window lengths", async () => {
      const a = key("hit-a");
      const b = key("hit-b");
      await store.hit(a, MINUTE, T0);
      await store.hit(a, MINUTE, T0);
      expect(await store.hit(b, MINUTE, T0)).toBe(1);
      expect(await store.hit(a, MINUTE, T0)).toBe(3);
    });

    it("50 concurrent hits are all counted exactly once", async () => {
      const k = key("hit-race");
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.hit(k, MINUTE, T0)));
      expect([...counts].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });

  describe("attempt(): regulated secret checks", () => {
    const delays = [0, 0, 1_000, 5_000];

    it("attempts are allowed and counted until a delay applies", async () => {
      const k = key("att");
      expect(await store.attempt(k, delays, T0, TTL)).toEqual({ allowed: true, count: 1, retryAfterMs: 0, locked: false });
      expect(await store.attempt(k, delays, T0, TTL)).toMatchObject({ allowed: true, count: 2 });
      expect(await store.failures(k)).toBe(2);
      // After 2 failures the next attempt must wait delays[1] = 0: allowed; after 3, 1 s.
      expect(await store.attempt(k, delays, T0 + 10, TTL)).toMatchObject({ allowed: true, count: 3 });
      expect(await store.failures(k)).toBe(3);
    });

    it("refused with retryAfterMs while the delay runs, and not counted; allowed once it has passed", async () => {
      const k = key("att");
      for (let i = 0; i < 3; i++) await store.attempt(k, delays, T0, TTL);
      expect(await store.attempt(k, delays, T0 + 400, TTL)).toEqual({ allowed: false, count: 3, retryAfterMs: 600, locked: false });
      expect(await store.attempt(k, delays, T0 + 999, TTL)).toEqual({ allowed: false, count: 3, retryAfterMs: 1, locked: false });
      expect(await store.failures(k)).toBe(3);
      expect(await store.attempt(k, delays, T0 + 1_000, TTL)).toMatchObject({ allowed: true, count: 4 });
      // The delay runs from the last allowed attempt; the table's last entry holds from here on.
      expect(await store.attempt(k, delays, T0 + 2_000, TTL)).toMatchObject({ allowed: false, retryAfterMs: 4_000 });
      expect(await store.attempt(k, delays, T0 + 6_000, TTL)).toMatchObject({ allowed: true, count: 5 });
      expect(await store.attempt(k, delays, T0 + 6_001, TTL)).toMatchObject({ allowed: false, retryAfterMs: 4_999 });
    });

    it("a negative delay locks: refused with locked = true and retryAfterMs 0", async () => {
      const k = key("lock");
      const locking = [0, 0, -1];
      for (let n = 1; n <= 3; n++) expect(await store.attempt(k, locking, T0, TTL)).toMatchObject({ allowed: true, count: n });
      expect(await store.attempt(k, locking, T0 + 1, TTL)).toEqual({ allowed: false, count: 3, retryAfterMs: 0, locked: true });
      expect(await store.failures(k)).toBe(3);
    });

    it("locked: the lock holds days later (within the TTL) and reset() lifts it", async () => {
      const k = key("lock");
      const locking = [0, -1];
      expect(await store.attempt(k, locking, T0, 30 * 86_400_000)).toMatchObject({ allowed: true, count: 1 });
      expect(await store.attempt(k, locking, T0, 30 * 86_400_000)).toMatchObject({ allowed: true, count: 2 });
      const later = T0 + 7 * 86_400_000;
      expect(await store.attempt(k, locking, later, 30 * 86_400_000)).toEqual({ allowed: false, count: 2, retryAfterMs: 0, locked: true });
      expect(await store.failures(k)).toBe(2);
      await store.reset(k);
      expect(await store.failures(k)).toBe(0);
      expect(await store.attempt(k, locking, later, 30 * 86_400_000)).toEqual({ allowed: true, count: 1, retryAfterMs: 0, locked: false });
    });

    it("reset() clears the failures of one key only", async () => {
      const a = key("reset-a");
      const b = key("reset-b");
      for (let i = 0; i < 4; i++) {
        await store.attempt(a, delays, T0 + i * 10_000, TTL);
        await store.attempt(b, delays, T0 + i * 10_000, TTL);
      }
      expect(await store.failures(a)).toBe(4);
      await store.reset(a);
      expect(await store.failures(a)).toBe(0);
      expect(await store.failures(b)).toBe(4);
      expect(await store.attempt(a, delays, T0 + 40_001, TTL)).toMatchObject({ allowed: true, count: 1 });
      expect(await store.failures(key("never"))).toBe(0);
    });

    it("an idle key expires ttlMs after its last attempt (by the caller's clock)", async () => {
      const kept = key("ttl");
      const expired = key("ttl");
      for (const k of [kept, expired]) for (let i = 0; i < 4; i++) await store.attempt(k, delays, T0 + i * 10_000, 60_000);
      const last = T0 + 30_000;
      expect(await store.attempt(kept, delays, last + 59_999, 60_000)).toMatchObject({ allowed: true, count: 5 });
      expect(await store.attempt(expired, delays, last + 60_000, 60_000)).toEqual({ allowed: true, count: 1, retryAfterMs: 0, locked: false });
    });

    it("an expired lock is forgotten too", async () => {
      const k = key("ttl-lock");
      await store.attempt(k, [-1], T0, 1_000);
      expect(await store.attempt(k, [-1], T0 + 999, 1_000)).toMatchObject({ allowed: false, locked: true });
      expect(await store.attempt(k, [-1], T0 + 1_000, 1_000)).toMatchObject({ allowed: true, count: 1 });
    });

    it("RL-07: 50 concurrent attempts with the per-IP table → exactly 10 allowed", async () => {
      const k = key("race");
      const results = await Promise.all(Array.from({ length: 50 }, () => store.attempt(k, ipDelays(defaultProtectionPolicy), T0, TTL)));
      const allowed = results.filter((r) => r.allowed);
      expect(allowed).toHaveLength(10);
      expect(allowed.map((r) => r.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const r of results.filter((x) => !x.allowed)) expect(r).toEqual({ allowed: false, count: 10, retryAfterMs: 600_000, locked: false });
      expect(await store.failures(k)).toBe(10);
    });
  });

  describe("bans", () => {
    it("ban / bannedUntil / liftBan", async () => {
      const ip = `192.0.2.${++seq % 250}`;
      expect(await store.bannedUntil(ip, T0)).toBeNull();
      await store.ban(ip, T0 + 3_600_000);
      expect(await store.bannedUntil(ip, T0)).toBe(T0 + 3_600_000);
      expect(await store.bannedUntil(ip, T0 + 3_599_999)).toBe(T0 + 3_600_000);
      expect(await store.liftBan(ip)).toBe(true);
      expect(await store.bannedUntil(ip, T0)).toBeNull();
      expect(await store.liftBan(ip)).toBe(false);
    });

    it("a ban ends at its `until`", async () => {
      const ip = "2001:db8::77";
      await store.ban(ip, T0 + 1_000);
      expect(await store.bannedUntil(ip, T0 + 1_000)).toBeNull();
      expect(await store.bannedUntil(ip, T0)).toBeNull();
    });

    it("listBans lists the bans in force, newest end first, and never expired ones", async () => {
      const now = T0 + 10 * 86_400_000; // a time no other test's ban reaches
      await store.ban("198.51.100.1", now + 60_000);
      await store.ban("198.51.100.2", now + 120_000);
      await store.ban("198.51.100.3", now - 1);
      await store.ban("198.51.100.4", now);
      expect(await store.listBans(now)).toEqual([
        { ip: "198.51.100.2", until: now + 120_000 },
        { ip: "198.51.100.1", until: now + 60_000 },
      ]);
      expect(await store.listBans(now + 60_000)).toEqual([{ ip: "198.51.100.2", until: now + 120_000 }]);
      await store.liftBan("198.51.100.2");
      expect(await store.listBans(now)).toEqual([{ ip: "198.51.100.1", until: now + 60_000 }]);
    });

    it("re-banning extends (replaces) the end of a ban", async () => {
      const ip = "198.51.100.9";
      await store.ban(ip, T0 + 1_000);
      await store.ban(ip, T0 + 5_000);
      expect(await store.bannedUntil(ip, T0 + 2_000)).toBe(T0 + 5_000);
    });
  });
});

/**
 * Attacker-driven key churn (fresh IPv6 networks, made-up usernames) must
 * never forget security state, and a full store refuses what is new instead
 * (docs/security-model.md "Bounded limiter state"). Memory: a small room
 * (the default is 100,000 keys per room). Redis: a private server with the
 * required `maxmemory-policy noeviction` and a small `maxmemory`.
 */
describe.each(limiterBackendNames())("LimiterStore under key churn (%s)", (backendName) => {
  let privateRedis: PrivateRedis | null = null;
  const ROOM = 500;

  beforeAll(async () => {
    if (backendName === "redis") privateRedis = await startPrivateRedis("noeviction");
  });
  afterAll(async () => {
    await privateRedis?.stop();
  });

  /** A fresh store with a lock, a throttled counter and a ban in it; `fill` then makes it full. */
  async function storeWithSecurityState() {
    let store: LimiterStore;
    if (privateRedis) {
      await privateRedis.client.config("SET", "maxmemory", "0");
      await privateRedis.client.flushall();
      store = createRedisLimiterStore(privateRedis.client, "gh_churn:");
    } else {
      store = createMemoryLimiterStore({ maxKeys: ROOM });
    }
    const locking = [0, -1];
    await store.attempt("fail:acct:user:victim", locking, T0, 30 * 86_400_000);
    await store.attempt("fail:acct:user:victim", locking, T0, 30 * 86_400_000);
    for (let i = 0; i < 3; i++) await store.attempt("fail:ip:203.0.113.5", [0, 0, 600_000], T0, TTL);
    await store.ban("2001:db8:bad::/64", T0 + 3_600_000);
    if (privateRedis) await privateRedis.limitTo(256 * 1024);
    return store;
  }

  /** Fresh keys of `kind` until the store refuses one (at most `max`); returns how many were taken. */
  async function churn(store: LimiterStore, kind: "hit" | "attempt", max: number): Promise<number> {
    for (let i = 0; i < max; i++) {
      const ip = `2001:db8:${(i >> 16) & 0xffff}:${i & 0xffff}::/64`;
      try {
        if (kind === "hit") await store.hit(`route:login:ip:${ip}`, MINUTE, T0 + 1_000);
        else await store.attempt(`fail:ip:${ip}`, ipDelays(defaultProtectionPolicy), T0 + 1_000, TTL);
      } catch {
        return i;
      }
    }
    return max;
  }

  async function expectSecurityStateKept(store: LimiterStore) {
    const later = T0 + 2_000;
    expect(await store.attempt("fail:acct:user:victim", [0, -1], later, 30 * 86_400_000)).toEqual({ allowed: false, count: 2, retryAfterMs: 0, locked: true });
    expect(await store.attempt("fail:ip:203.0.113.5", [0, 0, 600_000], later, TTL)).toMatchObject({ allowed: false, count: 3 });
    expect(await store.bannedUntil("2001:db8:bad::/64", later)).toBe(T0 + 3_600_000);
    expect(await store.listBans(later)).toEqual([{ ip: "2001:db8:bad::/64", until: T0 + 3_600_000 }]);
  }

  it("locks, throttles and bans survive counter and regulation churn", async () => {
    const store = await storeWithSecurityState();
    const limit = backendName === "memory" ? Math.ceil(ROOM * 1.05) : 200_000;
    const hits = await churn(store, "hit", limit);
    const attempts = await churn(store, "attempt", limit);
    // The churn really filled the store (it was refused before its end) …
    expect(hits).toBeLessThan(limit);
    expect(attempts).toBeLessThan(limit);
    expect(hits + attempts).toBeGreaterThan(backendName === "memory" ? ROOM : 100);
    // … and forgot nothing.
    await expectSecurityStateKept(store);
  });

  it("a full store fails closed for new keys: 503 unavailable, never a fresh budget", async () => {
    const store = await storeWithSecurityState();
    await churn(store, "hit", 200_000);
    await churn(store, "attempt", 200_000);
    const guarded = failClosed(store);
    for (const op of [() => guarded.hit("route:login:ip:198.51.100.77", MINUTE, T0 + 1_000), () => guarded.attempt("fail:ip:198.51.100.77", [0, -1], T0 + 1_000, TTL)]) {
      const err: unknown = await op().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isGatehouseError(err, "unavailable")).toBe(true);
      expect((err as GatehouseError).retryAfter).toBeGreaterThanOrEqual(1);
    }
    // Reads of what is kept still answer: a banned client stays banned, a locked account locked.
    await expectSecurityStateKept(store);
    if (backendName === "memory") {
      // In memory a key already present keeps counting; expired ones make room again.
      expect(await store.hit(`route:login:ip:2001:db8:0:0::/64`, MINUTE, T0 + 1_000)).toBe(2);
      expect(await store.hit("route:login:ip:198.51.100.77", MINUTE, T0 + MINUTE + 1_000)).toBe(1);
    }
  });
});
