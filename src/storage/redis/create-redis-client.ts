import { Redis, type RedisOptions } from "ioredis";
import { isSentinelUrl, parseSentinelUrl } from "./redis-url.js";

/**
 * A client for REDIS_URL with `options`: ioredis reads `redis://` and
 * `rediss://` itself; for `redis-sentinel://` it asks the sentinels for the
 * current primary, and asks again whenever the connection drops or a
 * sentinel announces a failover (`+switch-master`).
 */
export function createRedisClient(url: string, options: RedisOptions): Redis {
  if (!isSentinelUrl(url)) return new Redis(url, options);
  const t = parseSentinelUrl(url);
  return new Redis({
    ...options,
    sentinels: t.sentinels,
    name: t.name,
    db: t.db,
    ...(t.username !== undefined ? { username: t.username } : {}),
    ...(t.password !== undefined ? { password: t.password } : {}),
    ...(t.sentinelUsername !== undefined ? { sentinelUsername: t.sentinelUsername } : {}),
    ...(t.sentinelPassword !== undefined ? { sentinelPassword: t.sentinelPassword } : {}),
    role: "master",
    // Reconnect as soon as a sentinel announces a new primary, not only when the old one drops us.
    failoverDetector: true,
  });
}
