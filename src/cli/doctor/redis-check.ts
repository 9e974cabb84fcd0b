import type { Redis } from "ioredis";
import { createRedisClient } from "../../storage/redis/create-redis-client.js";
import { describeRedisUrl, isSentinelUrl, parseSentinelUrl } from "../../storage/redis/redis-url.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

const TIMEOUT_MS = 3_000;

/**
 * Gatehouse keeps account locks, failure counters and bans in Redis: an
 * eviction policy that drops keys under memory pressure would let an
 * attacker erase them by filling Redis. Only `noeviction` (a full Redis
 * refuses writes, and Gatehouse then answers 503: fail closed) keeps them.
 * The `volatile-*` policies are not enough either: locks and counters carry
 * a TTL, so they are exactly the keys those policies evict.
 */
const REQUIRED_POLICY = "noeviction";

/** The maxmemory-policy finding: ok, an error naming the policy, or a warning when CONFIG is not allowed (managed Redis). */
async function policyFinding(redis: Redis, where: string): Promise<Finding | null> {
  let policy: string | null;
  try {
    const answer = (await redis.config("GET", "maxmemory-policy")) as string[];
    policy = answer[1] ?? null;
  } catch {
    policy = null;
  }
  if (policy === REQUIRED_POLICY) return null;
  if (policy === null) {
    return {
      level: "warn",
      message: `cannot read Redis's maxmemory-policy (${where}): CONFIG GET is disabled or not permitted (usual on managed Redis)`,
      fix: "make sure the policy is noeviction in your provider's settings: any eviction policy lets a flood of keys erase account locks and bans",
    };
  }
  return {
    level: "error",
    message: `Redis maxmemory-policy is ${policy} (${where}): under memory pressure it can evict account locks, failure counters and bans`,
    fix: "set maxmemory-policy noeviction (redis.conf, CONFIG SET, or the provider's parameter group); a full Redis then refuses writes and sign-ins answer 503 (fail closed) instead of forgetting locks",
  };
}

/** Redis (REDIS_URL): a redis://, rediss:// or redis-sentinel:// URL, reachable, answering PING (authentication included), with `maxmemory-policy noeviction`. */
export async function redisCheck(ctx: DoctorContext): Promise<Finding[]> {
  const url = ctx.config?.redisUrl ?? null;
  if (url === null || ctx.broken.has("REDIS_URL")) return [];
  if (!/^rediss?:\/\//.test(url) && !isSentinelUrl(url)) {
    return [{ level: "error", message: "REDIS_URL is not a redis://, rediss:// or redis-sentinel:// URL", fix: "use redis://[user:password@]host:6379[/db], rediss:// for TLS, or redis-sentinel://host:26379,…/<primary name>" }];
  }
  if (isSentinelUrl(url)) {
    try {
      parseSentinelUrl(url);
    } catch (err) {
      return [{ level: "error", message: ctx.scrub((err as Error).message), fix: "use redis-sentinel://[[user]:password@]host[:port][,host[:port]…]/<primary name>" }];
    }
  }
  const where = describeRedisUrl(url);
  const redis = createRedisClient(url, { lazyConnect: true, connectTimeout: TIMEOUT_MS, commandTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The connection error itself (ECONNREFUSED, a TLS failure) says more than the "Connection is closed" that follows it.
  let connectionError: Error | null = null;
  redis.on("error", (err: Error) => (connectionError ??= err));
  try {
    await redis.connect();
    const answer = await redis.ping();
    if (answer !== "PONG") throw new Error(`unexpected answer to PING`);
    const policy = await policyFinding(redis, where);
    if (policy === null) return [{ level: "ok", message: `Redis (${where}) is reachable, maxmemory-policy ${REQUIRED_POLICY}`, fix: "" }];
    return [{ level: "ok", message: `Redis (${where}) is reachable`, fix: "" }, policy];
  } catch (err) {
    const cause: unknown = connectionError ?? err;
    return [{ level: "error", message: `cannot use Redis (${where}): ${ctx.scrub(cause instanceof Error ? cause.message : String(cause))}`, fix: "check REDIS_URL (host, port, password) and that Redis is running; until then sign-ins answer 503 (fail closed)" }];
  } finally {
    redis.disconnect();
  }
}
