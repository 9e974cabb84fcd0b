import type { Redis } from "ioredis";
import { createRedisClient } from "./create-redis-client.js";

/**
 * Connects to Redis so that failures surface fast: no offline queue, one
 * retry per command and short timeouts. A down Redis then makes auth
 * endpoints answer 503 at once (fail closed) instead of hanging. `url` is
 * `redis://`, `rediss://` or `redis-sentinel://` (src/storage/redis/redis-url.ts).
 */
export function openRedis(url: string): Redis {
  const redis = createRedisClient(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // A primary demoted by a failover answers writes with READONLY: reconnect (through the sentinels, to the new primary).
    reconnectOnError: (err) => err.message.startsWith("READONLY"),
  });
  redis.on("error", () => {
    // Reported per command (and by /readyz); the client keeps reconnecting.
  });
  return redis;
}

/** Resolves once the client is connected, or rejects after `timeoutMs`. */
export function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
