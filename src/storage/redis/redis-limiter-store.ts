import type { Redis } from "ioredis";
import { type AttemptResult, type Ban, type LimiterStore } from "../../core/rate-limit/limiter-store.js";

// Each script runs atomically inside Redis, so every Gatehouse process shares
// every counter exactly (RL-07). Times are the caller's clock; Redis TTLs only
// collect garbage.
const HIT = `
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return c`;

const ATTEMPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'count', 'last', 'exp')
local count = tonumber(h[1]) or 0
local last = tonumber(h[2]) or 0
local exp = tonumber(h[3]) or 0
if count > 0 and exp <= now then count = 0 last = 0 end
local n = #ARGV - 2
local wait = 0
if count > 0 and n > 0 then wait = tonumber(ARGV[2 + math.min(count, n)]) end
if wait < 0 then return {0, count, 0, 1} end
if count > 0 and now < last + wait then return {0, count, last + wait - now, 0} end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'last', now, 'exp', now + ttl)
redis.call('PEXPIRE', KEYS[1], ttl)
return {1, count, 0, 0}`;

const BANNED_UNTIL = `
local expires = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not expires then return -1 end
if expires <= tonumber(ARGV[2]) then redis.call('ZREM', KEYS[1], ARGV[1]) return -1 end
return expires`;

/**
 * The shared {@link LimiterStore} over Redis (ioredis), for several Gatehouse
 * instances behind one load balancer. `prefix` namespaces every key.
 */
export function createRedisLimiterStore(redis: Redis, prefix = "gatehouse:rl:"): LimiterStore {
  const bansKey = `${prefix}bans`;
  return {
    async hit(key, windowMs, now) {
      const windowStart = now - (now % windowMs);
      return Number(await redis.eval(HIT, 1, `${prefix}w:${key}|${windowStart}`, String(windowMs * 2)));
    },
    async attempt(key, delays, now, ttlMs): Promise<AttemptResult> {
      const r = (await redis.eval(ATTEMPT, 1, `${prefix}a:${key}`, String(now), String(ttlMs), ...delays.map(String))) as number[];
      return { allowed: r[0] === 1, count: Number(r[1]), retryAfterMs: Number(r[2]), locked: r[3] === 1 };
    },
    async failures(key) {
      return Number((await redis.hget(`${prefix}a:${key}`, "count")) ?? 0);
    },
    async reset(key) {
      await redis.del(`${prefix}a:${key}`);
    },
    async ban(ip, until) {
      await redis.zadd(bansKey, String(until), ip);
    },
    async bannedUntil(ip, now) {
      const until = Number(await redis.eval(BANNED_UNTIL, 1, bansKey, ip, String(now)));
      return until < 0 ? null : until;
    },
    async listBans(now) {
      const flat = await redis.zrangebyscore(bansKey, `(${now}`, "+inf", "WITHSCORES");
      const list: Ban[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) list.push({ ip: flat[i]!, until: Number(flat[i + 1]) });
      return list.sort((a, b) => b.until - a.until);
    },
    async liftBan(ip) {
      return (await redis.zrem(bansKey, ip)) > 0;
    },
  };
}
