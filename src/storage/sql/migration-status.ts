import { existsSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { Database } from "./database.js";
import { migrations } from "./migrations/index.js";
import { isPostgresUrl, type DatabaseLocation } from "./open-database.js";
import { schemaScopedMigrator } from "./schema-scoped-migrator.js";

/** Which migrations a database has had, read without changing anything. */
export interface MigrationStatus {
  dialect: "sqlite" | "postgres";
  /** False for an SQLite file that does not exist yet (created on first start). */
  exists: boolean;
  applied: string[];
  /** Known to this version, not applied yet: the next start applies them. */
  pending: string[];
  /** Applied, but unknown to this version (a newer Gatehouse migrated it): the start would refuse. */
  unknown: string[];
}

/**
 * Connects to the configured database and compares its migrations with this
 * version's, with no side effects: SQLite is opened read-only (and a missing
 * file is not created), nothing is migrated, no table is created.
 */
export async function migrationStatus(location: DatabaseLocation): Promise<MigrationStatus> {
  const url = location.databaseUrl;
  const postgres = url !== null && isPostgresUrl(url);
  let db: Kysely<Database>;
  if (postgres) {
    const { openPostgres } = await import("./dialects/postgres.js");
    db = openPostgres(url, location.schema);
  } else {
    const file = url === null ? join(location.dataDir, "gatehouse.db") : url.replace(/^sqlite:(\/\/)?/, "");
    if (!existsSync(file)) return { dialect: "sqlite", exists: false, applied: [], pending: Object.keys(migrations), unknown: [] };
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(file, { readonly: true, fileMustExist: true }) }) });
  }
  try {
    let schema: string | undefined;
    if (postgres) schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
    const migrator = schemaScopedMigrator(db, schema);
    const known = await migrator.getMigrations();
    const applied = known.filter((m) => m.executedAt !== undefined).map((m) => m.name);
    const pending = known.filter((m) => m.executedAt === undefined).map((m) => m.name);
    let recorded: string[] = [];
    if (applied.length > 0) {
      const table = schema ? sql.table(`${schema}.kysely_migration`) : sql.table("kysely_migration");
      recorded = (await sql<{ name: string }>`select name from ${table}`.execute(db)).rows.map((r) => r.name);
    }
    const unknown = recorded.filter((name) => !Object.hasOwn(migrations, name));
    return { dialect: postgres ? "postgres" : "sqlite", exists: true, applied, pending, unknown };
  } finally {
    await db.destroy();
  }
}
