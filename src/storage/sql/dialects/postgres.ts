import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "../database.js";

const INT8_OID = 20;

/**
 * Opens PostgreSQL through a `pg` pool. `bigint` columns hold epoch
 * milliseconds, well inside Number's safe range, so they are parsed as numbers.
 * `schema`, when given, is set as the search path (used to isolate test runs).
 */
export function openPostgres(url: string, schema?: string): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as (value: string) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on("error", () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  // A client checked out of the pool has no error listener: its connection dropping (PostgreSQL stopped or restarting)
  // would be an uncaught exception that ends the process. The query in flight reports the error itself (503).
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
