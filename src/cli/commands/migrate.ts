import { migrateDatabase } from "../../storage/sql/open-database.js";
import { describeDatabase, loadCliConfig } from "../configured-database.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";

const HELP = `Usage: gatehouse migrate

Applies the database migrations this version has and the database lacks, then
exits; the server applies them at start too. On PostgreSQL it connects with
DATABASE_MIGRATION_URL (the role that owns the schema) when that is set, else
with DATABASE_URL. Run it with the owner role before starting servers whose
DATABASE_URL role may only read and write rows (docs/operations.md#database-roles).
`;

/** `gatehouse migrate`: the schema owner's step of a least-privilege deployment. */
export const migrateCommand: Command = async (args: string[], io: CliIo) => {
  if (args.includes("--help") || args.includes("-h")) {
    io.out(HELP);
    return EXIT.ok;
  }
  if (args.length > 0) throw new CliError("migrate takes no arguments; configure it with environment variables", EXIT.usage);
  const config = loadCliConfig(io.env);
  const owner = config.databaseMigrationUrl !== null;
  let result;
  try {
    result = await migrateDatabase({ url: config.databaseMigrationUrl ?? config.databaseUrl, dataDir: config.dataDir }, owner ? "DATABASE_MIGRATION_URL" : "DATABASE_URL");
  } catch (err) {
    throw new CliError(`cannot migrate the database (${describeDatabase(config)}): ${err instanceof Error ? err.message : String(err)}`);
  }
  const where = `${describeDatabase(config)}${result.schema ? `, schema ${result.schema}` : ""}`;
  if (result.applied.length === 0) io.out(`${printable(where)}: up to date, nothing to apply\n`);
  else io.out(`${printable(where)}: applied ${result.applied.length} migration(s): ${result.applied.join(", ")}\n`);
  return EXIT.ok;
};
