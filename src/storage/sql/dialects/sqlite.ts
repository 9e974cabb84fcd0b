import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Database } from "../database.js";

/**
 * Opens SQLite with the settings Gatehouse relies on: WAL, foreign keys on,
 * a busy timeout, and full fsync on commit so a crash loses nothing committed.
 */
export function openSqlite(file: string): Kysely<Database> {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new SQLite(file);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("synchronous = FULL");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  connections.set(db, sqlite);
  return db;
}

const connections = new WeakMap<Kysely<Database>, SQLite.Database>();

/**
 * The better-sqlite3 connection under a Kysely instance opened by
 * {@link openSqlite}, or undefined (PostgreSQL, or a database opened
 * elsewhere). Stores use it for synchronous prepared reads on the hot path
 * (the session check, docs/performance.md); everything else goes through Kysely.
 */
export function sqliteConnectionOf(db: Kysely<Database>): SQLite.Database | undefined {
  return connections.get(db);
}

/**
 * Reuses prepared statements: Kysely prepares every query afresh, and on a
 * session check that preparation cost more than running the query
 * (docs/performance.md). Statements are keyed by their SQL text (values are
 * bound parameters), bounded, and a statement still being iterated is never
 * handed out twice.
 */
export function withStatementCache(db: SQLite.Database, max = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (statement === undefined || statement.busy) {
      statement = prepare(source);
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof db.prepare;
  return db;
}
