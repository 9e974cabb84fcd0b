import { PostgresAdapter, sql, type Kysely } from "kysely";
import type { Database } from "./database.js";

/** True when `db` talks to PostgreSQL. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Runs `fn` in a transaction meant to read, decide and write atomically.
 *
 * - PostgreSQL: an ordinary (READ COMMITTED) transaction; `fn` must lock what
 *   its decision reads (`SELECT … FOR UPDATE`), because READ COMMITTED alone
 *   lets two transactions read the same state and both write.
 * - SQLite: `BEGIN IMMEDIATE`, which takes the database's write lock before
 *   the first read, so another process on the same file (the CLI) cannot
 *   write between the read and the write. Inside one process Kysely has a
 *   single SQLite connection behind a mutex, so transactions already run one
 *   at a time; the immediate lock covers the other processes.
 */
export async function writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return db.transaction().execute(fn);
  return db.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
