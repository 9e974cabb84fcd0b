import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import { schemaScopedMigrator } from "./schema-scoped-migrator.js";

/**
 * Applies every pending migration (Kysely takes a lock, so concurrent starts
 * are safe). On PostgreSQL pass the schema the tables live in: Kysely's
 * bookkeeping tables are then looked for there only, so another schema's copy
 * cannot fool it and another schema's DDL cannot disturb it.
 */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<string[]> {
  const { error, results } = await schemaScopedMigrator(db, schema).migrateToLatest();
  if (error instanceof Error) throw error;
  if (error) throw new Error(typeof error === "string" ? error : "migration failed", { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
