import pg from "pg";
import { Redis } from "ioredis";
import { backendNames, limiterBackendNames, PG_URL, REDIS_URL } from "./backends.js";

/** Fails the whole run at once, with a clear message, when PostgreSQL is required but down. */
export default async function setup(): Promise<void> {
  await checkRedis();
  await checkPostgres();
}

/** Fails the run at once when Redis is required but down. */
async function checkRedis(): Promise<void> {
  if (!limiterBackendNames().includes("redis")) {
    console.warn("\n  Redis suites are OFF (GATEHOUSE_TEST_REDIS=off): rate limits are tested in memory only.\n");
    return;
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is required for the test suites at ${REDIS_URL} (${(err as Error).message}). ` +
        "Start it, set GATEHOUSE_TEST_REDIS_URL, or run with GATEHOUSE_TEST_REDIS=off outside CI.",
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

async function checkPostgres(): Promise<void> {
  if (!backendNames().includes("postgres")) {
    console.warn("\n  PostgreSQL suites are OFF (GATEHOUSE_TEST_PG=off): only SQLite is tested.\n");
    return;
  }
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for the test suites at ${PG_URL} (${(err as Error).message}). ` +
        "Start it, set GATEHOUSE_TEST_PG_URL, or run with GATEHOUSE_TEST_PG=off outside CI.",
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
