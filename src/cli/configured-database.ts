import { join } from "node:path";
import type { Config } from "../config/config.js";
import { ConfigError, loadConfig } from "../config/load-config.js";
import { isPostgresUrl, openDatabase, type OpenDatabase } from "../storage/sql/open-database.js";
import { cliEnvironment } from "./cli-environment.js";
import { CliError } from "./cli-io.js";

/** Loads the configuration exactly as `main.ts` does (`.env` included); problems become one readable CliError. */
export function loadCliConfig(env: NodeJS.ProcessEnv): Config {
  const loaded = cliEnvironment(env);
  try {
    return loadConfig(loaded.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${err.message}\n(run "gatehouse doctor" for advice)`);
    throw err;
  }
}

/** Opens (and migrates) the configured database, as the server would. */
export async function openConfiguredDatabase(config: Config): Promise<OpenDatabase> {
  try {
    return await openDatabase({ databaseUrl: config.databaseUrl, migrationUrl: config.databaseMigrationUrl, dataDir: config.dataDir });
  } catch (err) {
    throw new CliError(`cannot open the database: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The SQLite file the configuration points at, or null on PostgreSQL (same rule as open-database.ts). */
export function sqliteFileOf(config: Config): string | null {
  const url = config.databaseUrl;
  if (url !== null && isPostgresUrl(url)) return null;
  return url === null ? join(config.dataDir, "gatehouse.db") : url.replace(/^sqlite:(\/\/)?/, "");
}

/** A short, secret-free description of where the data lives. */
export function describeDatabase(config: Config): string {
  const file = sqliteFileOf(config);
  if (file !== null) return `SQLite ${file}`;
  try {
    const url = new URL(config.databaseUrl ?? "");
    return `PostgreSQL ${url.hostname}${url.port ? `:${url.port}` : ""}${url.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}
