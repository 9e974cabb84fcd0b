import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A database backend the suites run on: SQLite in a temp dir, or a fresh PostgreSQL schema. */
export interface Backend {
  name: "sqlite" | "postgres";
  /** Environment for loadConfig (DATABASE_URL, GATEHOUSE_DATA_DIR). */
  env: Record<string, string>;
  /** PostgreSQL schema isolating this run. */
  schema?: string;
  /** Removes the temp dir or drops the schema. */
  cleanup(): Promise<void>;
}

/** The PostgreSQL URL the suites use. */
export const PG_URL = process.env.GATEHOUSE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * PostgreSQL suites always run unless GATEHOUSE_TEST_PG=off (refused under
 * CI=true): a missing server makes them fail, never skip silently.
 */
export function backendNames(): Backend["name"][] {
  if (process.env.GATEHOUSE_TEST_PG === "off") {
    if (process.env.CI === "true") throw new Error("GATEHOUSE_TEST_PG=off is not allowed with CI=true");
    return ["sqlite"];
  }
  return ["sqlite", "postgres"];
}

/** Creates an isolated backend. */
export async function createBackend(name: Backend["name"]): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-test-"));
  if (name === "sqlite") {
    return { name, env: { GATEHOUSE_DATA_DIR: dataDir }, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const schema = `gh_test_${process.pid}_${Math.floor(performance.now() * 1000).toString(36)}_${name}`.replace(/[^a-z0-9_]/g, "");
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`create schema ${schema}`);
  } finally {
    await client.end();
  }
  if (process.env.GATEHOUSE_PG_MARKER) appendFileSync(process.env.GATEHOUSE_PG_MARKER, `${schema}\n`);
  return {
    name,
    schema,
    env: { GATEHOUSE_DATA_DIR: dataDir, DATABASE_URL: PG_URL },
    async cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The Redis URL the suites use. */
export const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Where rate limits live: process memory (the default) or the real Redis service. */
export type LimiterBackend = "memory" | "redis";

/**
 * Limiter backends the protection suites run on. Redis always runs unless
 * GATEHOUSE_TEST_REDIS=off (refused under CI=true): a missing server fails.
 */
export function limiterBackendNames(): LimiterBackend[] {
  if (process.env.GATEHOUSE_TEST_REDIS === "off") {
    if (process.env.CI === "true") throw new Error("GATEHOUSE_TEST_REDIS=off is not allowed with CI=true");
    return ["memory"];
  }
  return ["memory", "redis"];
}

/** A fresh key prefix isolating one test run's Redis keys. */
export function redisTestPrefix(): string {
  return `gh_test:${process.pid}:${Math.floor(performance.now() * 1000).toString(36)}:${randomBytes(4).toString("hex")}:`;
}
