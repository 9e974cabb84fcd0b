import { migrationStatus } from "../../storage/sql/migration-status.js";
import { describeDatabase } from "../configured-database.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/** The database: reachable, and migrated as far as this version expects (pending and unknown migrations reported). */
export async function databaseCheck(ctx: DoctorContext): Promise<Finding[]> {
  const config = ctx.config;
  if (config === null || ctx.broken.has("DATABASE_URL") || ctx.broken.has("DATABASE_URL_FILE")) return [];
  const where = describeDatabase(config);
  let status;
  try {
    status = await migrationStatus({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  } catch (err) {
    return [{ level: "error", message: `cannot reach the database (${where}): ${ctx.scrub(err instanceof Error ? err.message : String(err))}`, fix: "check DATABASE_URL (host, port, user, password, database name) and that the server is running and accepts this client" }];
  }
  if (!status.exists) {
    return [{ level: "info", message: `the database (${where}) does not exist yet`, fix: "nothing to do: it is created and migrated on the first start" }];
  }
  if (status.unknown.length > 0) {
    return [{ level: "error", message: `the database (${where}) has migrations this version does not know: ${status.unknown.join(", ")}`, fix: "a newer Gatehouse migrated it: run that version, or restore a backup made for this one" }];
  }
  if (status.pending.length > 0) {
    const fix =
      config.databaseMigrationUrl !== null
        ? "the next start applies them over DATABASE_MIGRATION_URL (or run gatehouse migrate); take a backup first (gatehouse backup)"
        : "the next start applies them, or run gatehouse migrate (with DATABASE_MIGRATION_URL set to the owner role's URL when DATABASE_URL's role may not change the schema); take a backup first (gatehouse backup)";
    return [{ level: "warn", message: `the database (${where}) has ${status.pending.length} pending migration(s): ${status.pending.join(", ")}`, fix }];
  }
  return [{ level: "ok", message: `the database (${where}) is reachable and up to date (${status.applied.length} migrations)`, fix: "" }];
}
