import { join } from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "./database.js";
import { openSqlite } from "./dialects/sqlite.js";
import { migrateToLatest } from "./migrate.js";

/** An open, migrated database. */
export interface OpenDatabase {
  db: Kysely<Database>;
  dialect: "sqlite" | "postgres";
  /** True when a trivial query succeeds (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Where the database is: a postgres URL, or SQLite in the data dir. */
export interface DatabaseLocation {
  databaseUrl: string | null;
  dataDir: string;
  /** PostgreSQL schema to use (tests isolate themselves in one). */
  schema?: string;
}

/** True for `postgres://` and `postgresql://` URLs. */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

/** Opens the configured database and runs pending migrations. */
export async function openDatabase(location: DatabaseLocation): Promise<OpenDatabase> {
  const url = location.databaseUrl;
  let db: Kysely<Database>;
  let dialect: OpenDatabase["dialect"];
  if (url !== null && isPostgresUrl(url)) {
    // Loaded only when used: an SQLite deployment never pays for the pg driver's memory.
    const { openPostgres } = await import("./dialects/postgres.js");
    db = openPostgres(url, location.schema);
    dialect = "postgres";
  } else {
    const file = url === null ? join(location.dataDir, "gatehouse.db") : url.replace(/^sqlite:(\/\/)?/, "");
    db = openSqlite(file);
    dialect = "sqlite";
  }
  let schema: string | undefined;
  if (dialect === "postgres") {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    schema = rows[0]?.schema;
  }
  await migrateToLatest(db, schema);
  return {
    db,
    dialect,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
