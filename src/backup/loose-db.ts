import type { Kysely, Transaction } from "kysely";
import type { Database } from "../storage/sql/database.js";
import { LATEST_SCHEMA } from "./backup-format.js";
import { SPEC_SCHEMA } from "./table-specs.js";

/** Any table, any column: the backup walks tables by name from its specs. */
export type LooseDatabase = Record<string, Record<string, string | number | null>>;

/**
 * The same connection typed loosely, for the table-generic code of the
 * backup (the specs in table-specs.ts are what keeps it honest).
 */
export function looseDb(db: Kysely<Database> | Transaction<Database>): Kysely<LooseDatabase> {
  return db as unknown as Kysely<LooseDatabase>;
}

/**
 * Refuses to run when a migration was added without updating the backup's
 * table specs: a backup that silently dropped a new column would lose data.
 */
export function assertSpecsCurrent(): void {
  if (LATEST_SCHEMA !== SPEC_SCHEMA) {
    throw new Error(`backup table specs describe ${SPEC_SCHEMA} but the latest migration is ${LATEST_SCHEMA}; update src/backup/table-specs.ts`);
  }
}
