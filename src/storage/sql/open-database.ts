import { join } from "node:path";
import { sql, type Kysely } from "kysely";
import type { Database } from "./database.js";
import { openSqlite } from "./dialects/sqlite.js";
import { migrateToLatest } from "./migrate.js";
import { isInsufficientPrivilege } from "./insufficient-privilege.js";
import { schemaScopedMigrator } from "./schema-scoped-migrator.js";

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
  /**
   * PostgreSQL: the schema owner's URL (`DATABASE_MIGRATION_URL`). When set,
   * migrations run over it, on their own short-lived connection, before the
   * runtime connection opens; the runtime role then needs only row privileges.
   */
  migrationUrl?: string | null;
  dataDir: string;
  /** PostgreSQL schema to use (tests isolate themselves in one). */
  schema?: string;
}

/** True for `postgres://` and `postgresql://` URLs. */
export function isPostgresUrl(url: string): boolean {
  return url.startsWith("postgres://") || url.startsWith("postgresql://");
}

/** A connection to `url` (PostgreSQL) or to the SQLite file it names (null: the data dir's). */
async function connect(url: string | null, dataDir: string, schema: string | undefined): Promise<{ db: Kysely<Database>; dialect: OpenDatabase["dialect"] }> {
  if (url !== null && isPostgresUrl(url)) {
    // Loaded only when used: an SQLite deployment never pays for the pg driver's memory.
    const { openPostgres } = await import("./dialects/postgres.js");
    return { db: openPostgres(url, schema), dialect: "postgres" };
  }
  const file = url === null ? join(dataDir, "gatehouse.db") : url.replace(/^sqlite:(\/\/)?/, "");
  return { db: openSqlite(file), dialect: "sqlite" };
}

/** The schema a PostgreSQL connection's unqualified names resolve to (its search path's first existing schema). */
async function currentSchema(db: Kysely<Database>): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}

/**
 * Applies every pending migration over `url` (the schema owner's role, or the
 * only role there is) and closes the connection; returns the names applied.
 * `what` names the setting the URL came from, for the messages.
 */
export async function migrateDatabase(location: { url: string | null; dataDir: string; schema?: string }, what = "DATABASE_URL"): Promise<{ dialect: OpenDatabase["dialect"]; schema?: string; applied: string[] }> {
  const { db, dialect } = await connect(location.url, location.dataDir, location.schema);
  try {
    if (dialect === "sqlite") return { dialect, applied: await migrateToLatest(db) };
    const schema = await currentSchema(db);
    if (schema === undefined) throw new Error(`${what}: the role's search_path names no existing schema, so there is nowhere to create the tables (see docs/sql/postgres-roles.sql)`);
    try {
      return { dialect, schema, applied: await migrateToLatest(db, schema) };
    } catch (err) {
      if (isInsufficientPrivilege(err)) {
        throw new Error(`${what}: the role may not change schema "${schema}" (${err instanceof Error ? err.message : String(err)}); migrations need the role that owns it (docs/sql/postgres-roles.sql)`, { cause: err });
      }
      throw err;
    }
  } finally {
    await db.destroy();
  }
}

/**
 * The runtime connection's migration step on PostgreSQL. Without a migration
 * URL it migrates as before (a role that owns the schema may). With one, or
 * when the runtime role is refused, pending migrations stop the start with
 * what to do, never with the driver's stack trace.
 */
async function migrateAsRuntime(db: Kysely<Database>, schema: string | undefined, ownerMigrated: boolean): Promise<void> {
  let pending: string[];
  try {
    pending = (await schemaScopedMigrator(db, schema).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
  } catch (err) {
    if (!isInsufficientPrivilege(err)) throw err;
    throw new Error(
      `DATABASE_URL: the role may not read Gatehouse's tables in schema "${schema ?? "?"}" (${err instanceof Error ? err.message : String(err)}); grant it the row privileges of docs/sql/postgres-roles.sql`,
      { cause: err },
    );
  }
  if (pending.length > 0 && ownerMigrated) {
    throw new Error(
      `DATABASE_URL sees ${pending.length} pending migration(s) in schema "${schema ?? "?"}" although DATABASE_MIGRATION_URL applied them: both URLs must reach the same database and schema (set the same search_path for both roles)`,
    );
  }
  try {
    // Nothing pending: this only checks (under the migration lock) that no newer version migrated the database.
    await migrateToLatest(db, schema);
  } catch (err) {
    if (pending.length === 0 || !isInsufficientPrivilege(err)) throw err;
    throw new Error(
      `the database has ${pending.length} pending migration(s) (${pending.join(", ")}) and DATABASE_URL's role may not change the schema: run "gatehouse migrate" with the owner role (DATABASE_MIGRATION_URL set to its URL), or set DATABASE_MIGRATION_URL so the start applies them`,
      { cause: err },
    );
  }
}

/**
 * Opens the configured database and runs pending migrations: over
 * `migrationUrl` first when it is set (PostgreSQL), else over the runtime
 * connection itself.
 */
export async function openDatabase(location: DatabaseLocation): Promise<OpenDatabase> {
  const url = location.databaseUrl;
  const migrationUrl = location.migrationUrl ?? null;
  if (migrationUrl !== null) {
    if (url === null || !isPostgresUrl(url) || !isPostgresUrl(migrationUrl)) throw new Error("DATABASE_MIGRATION_URL and DATABASE_URL must both be postgres:// URLs");
    await migrateDatabase({ url: migrationUrl, dataDir: location.dataDir, ...(location.schema ? { schema: location.schema } : {}) }, "DATABASE_MIGRATION_URL");
  }
  const { db, dialect } = await connect(url, location.dataDir, location.schema);
  try {
    if (dialect === "postgres") await migrateAsRuntime(db, await currentSchema(db), migrationUrl !== null);
    else await migrateToLatest(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
  return {
    db,
    dialect,
    ping: () => pingDatabase(db),
    close: () => db.destroy(),
  };
}

/** True when the database answers `select 1`. */
async function pingDatabase(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** A database the embedding app already opened (the library plugin's `database` option). */
export interface HostDatabase {
  db: Kysely<Database>;
  dialect: OpenDatabase["dialect"];
}

/**
 * Migrates a database someone else opened (a host app's Kysely instance) as
 * {@link openDatabase} does, into the connection's current schema on
 * PostgreSQL; its `close` leaves the connection to its owner.
 */
export async function adoptDatabase(host: HostDatabase): Promise<OpenDatabase> {
  const { db, dialect } = host;
  await assertAdoptable(db, dialect);
  if (dialect === "postgres") await migrateAsRuntime(db, await currentSchema(db), false);
  else await migrateToLatest(db);
  return {
    db,
    dialect,
    ping: () => pingDatabase(db),
    close: async () => undefined,
  };
}

/**
 * Refuses, with what to change, a host connection whose settings Gatehouse's
 * stores rely on differently: PostgreSQL's `int8` must be parsed as numbers
 * (epoch milliseconds), SQLite must enforce foreign keys (cascading deletes).
 */
async function assertAdoptable(db: Kysely<Database>, dialect: OpenDatabase["dialect"]): Promise<void> {
  if (dialect === "postgres") {
    const { rows } = await sql<{ n: unknown }>`select 1::int8 as n`.execute(db);
    if (typeof rows[0]?.n !== "number") throw new Error("database: the pg pool must parse int8 as numbers (types.getTypeParser for oid 20, see docs/library.md)");
    return;
  }
  const { rows } = await sql<{ foreign_keys: unknown }>`pragma foreign_keys`.execute(db);
  if (Number(rows[0]?.foreign_keys) !== 1) throw new Error("database: the SQLite connection must enforce foreign keys (pragma foreign_keys = ON, see docs/library.md)");
}
