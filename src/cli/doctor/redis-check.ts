import { Redis } from "ioredis";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

const TIMEOUT_MS = 3_000;

/** Redis (REDIS_URL): a redis:// or rediss:// URL, reachable, answering PING (authentication included). */
export async function redisCheck(ctx: DoctorContext): Promise<Finding[]> {
  const url = ctx.config?.redisUrl ?? null;
  if (url === null || ctx.broken.has("REDIS_URL")) return [];
  if (!/^rediss?:\/\//.test(url)) {
    return [{ level: "error", message: "REDIS_URL is not a redis:// or rediss:// URL", fix: "use redis://[user:password@]host:6379[/db] or rediss:// for TLS" }];
  }
  const where = (() => {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  })();
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: TIMEOUT_MS, commandTimeout: TIMEOUT_MS, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  // The connection error itself (ECONNREFUSED, a TLS failure) says more than the "Connection is closed" that follows it.
  let connectionError: Error | null = null;
  redis.on("error", (err: Error) => (connectionError ??= err));
  try {
    await redis.connect();
    const answer = await redis.ping();
    if (answer !== "PONG") throw new Error(`unexpected answer to PING`);
    return [{ level: "ok", message: `Redis (${where}) is reachable`, fix: "" }];
  } catch (err) {
    const cause: unknown = connectionError ?? err;
    return [{ level: "error", message: `cannot use Redis (${where}): ${ctx.scrub(cause instanceof Error ? cause.message : String(cause))}`, fix: "check REDIS_URL (host, port, password) and that Redis is running; until then sign-ins answer 503 (fail closed)" }];
  } finally {
    redis.disconnect();
  }
}
