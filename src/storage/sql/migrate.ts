import { Migrator, type Kysely } from "kysely";
import type { Database } from "./database.js";
import { migrations } from "./migrations/index.js";

/**
 * Applies every pending migration (Kysely takes a lock, so concurrent starts
 * are safe). On PostgreSQL pass the schema the tables live in: without it
 * Kysely looks for its bookkeeping tables in every schema of the database
 * and is fooled by another schema's copy.
 */
export async function migrateToLatest(db: Kysely<Database>, schema?: string): Promise<string[]> {
  // Kysely's migrator introspects every schema of the database to find its own
  // tables; a schema dropped at that moment (parallel test runs, another
  // tenant) makes the catalog query fail once. Such a failure is retried; a
  // failing migration itself fails the same way every time and is reported.
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db, schema);
    } catch (err) {
      if (attempt >= 3 || !/schema .* does not exist/i.test(String((err as Error)?.message))) throw err;
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

async function migrateOnce(db: Kysely<Database>, schema?: string): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error instanceof Error) throw error;
  if (error) throw new Error(typeof error === "string" ? error : "migration failed", { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
