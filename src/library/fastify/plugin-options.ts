import type { Kysely } from "kysely";
import type { ComposeOptions } from "../../compose.js";
import type { Config } from "../../config/config.js";
import { loadConfig } from "../../config/load-config.js";

/** Options of the {@link gatehouse} Fastify plugin. */
export interface GatehouseOptions {
  /**
   * Where Gatehouse's API and pages live in the host app: `"/auth"` serves
   * `/auth/login`, `/auth/api/auth/login`… Default `""` (the host's root;
   * then the host keeps its own 404 handler). No trailing slash.
   */
  prefix?: string;
  /**
   * Gatehouse's settings as the server's environment variables
   * (`SECRET_KEY`, `PUBLIC_URL`, `DATABASE_URL`, `REDIS_URL`,
   * `REGISTRATION`…; docs/configuration.md), validated by the same loader:
   * an invalid value stops the host's start with every problem listed.
   * Default: `process.env`.
   */
  env?: Record<string, string | undefined>;
  /**
   * The host's own Kysely instance instead of `DATABASE_URL`: Gatehouse
   * migrates its tables into it (on PostgreSQL, into the connection's
   * current schema) and never closes it. Pick a database or schema where
   * Gatehouse's table names (`users`, `sessions`…) are free.
   */
  database?: {
    // The host's database type is its own; Gatehouse uses only its own tables.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    db: Kysely<any>;
    dialect: "sqlite" | "postgres";
  };
  /** Start the periodic housekeeping (expired sessions, audit retention) when the host is ready. Default true. */
  housekeeping?: boolean;
  /** Test and tuning overrides of the composition (clock, hasher, PostgreSQL schema, Redis key prefix, session cache size). */
  overrides?: Pick<ComposeOptions, "clock" | "random" | "hasher" | "schema" | "redisPrefix" | "sessionCacheSize" | "memoryLimiterKeys">;
}

/** A prefix error: the plugin refuses to start with a prefix it cannot mount. */
export class GatehouseOptionsError extends Error {}

/** The prefix as mounted: "" or `/segment[/segment…]`, no trailing slash. */
export function normalizePrefix(raw: string | undefined): string {
  const prefix = raw ?? "";
  if (prefix === "" || prefix === "/") return "";
  const segments = prefix.split("/").slice(1);
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix) || segments.some((s) => s === "." || s === "..")) throw new GatehouseOptionsError(`gatehouse: prefix must look like "/auth" (path segments, no trailing slash), got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** The configuration of the plugin: the server's loader over `env` (the same rules, the same messages). */
export function pluginConfig(options: GatehouseOptions): Config {
  return loadConfig(options.env ?? process.env);
}
