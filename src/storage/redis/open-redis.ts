import { Redis } from "ioredis";

/**
 * Connects to Redis so that failures surface fast: no offline queue, one
 * retry per command and short timeouts. A down Redis then makes auth
 * endpoints answer 503 at once (fail closed) instead of hanging.
 */
export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
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
