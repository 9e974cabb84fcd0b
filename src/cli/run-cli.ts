import { isGatehouseError } from "../core/errors.js";
import { CliError, EXIT, printable, printableLines, type CliIo, type Command } from "./cli-io.js";

export const USAGE = `Usage: gatehouse <command> [options]

Commands:
  serve                 start the server (same as npm start)
  backup                write a portable, checksummed (optionally encrypted) backup
  restore <file>        validate a backup, then replace the database with it (--yes)
  migrate               apply pending database migrations (as DATABASE_MIGRATION_URL's role when set)
  doctor                check the configuration, database, mail, Redis and rules file
  config print          show the effective configuration and where each value came from
  config example        print the .env.example text generated from the schema
  secret generate       print a fresh SECRET_KEY
  keys                  rotate, status, rewrap: the data keys of stored secrets
  vault                 list, set, delete: secrets injected into upstream requests
  user                  create, list, set-role, block, unblock, reset-mfa
  import users <src>    import another app's users from CSV, JSON lines or a table (dry run unless --apply)

Run "gatehouse <command> --help" for a command's options. Configuration comes
from the environment and from .env in the working directory (or the file named
by GATEHOUSE_ENV_FILE), the environment winning: the same as the server.`;

/** Commands load lazily, so help and usage errors answer without opening drivers. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import("./commands/serve.js")).serveCommand,
  backup: async () => (await import("./commands/backup.js")).backupCommand,
  restore: async () => (await import("./commands/restore.js")).restoreCommand,
  migrate: async () => (await import("./commands/migrate.js")).migrateCommand,
  doctor: async () => (await import("./commands/doctor.js")).doctorCommand,
  user: async () => (await import("./commands/user.js")).userCommand,
  config: async () => (await import("./commands/config.js")).configCommand,
  secret: async () => (await import("./commands/secret.js")).secretCommand,
  keys: async () => (await import("./commands/keys.js")).keysCommand,
  import: async () => (await import("./commands/import.js")).importCommand,
  vault: async () => (await import("./commands/vault.js")).vaultCommand,
};

/** Explains an error without secrets: the public message, where it is, and the (value-free) details. */
function explain(err: unknown): string {
  if (err instanceof CliError) return err.message;
  if (isGatehouseError(err)) {
    const where = err.fields && err.fields.length > 0 ? ` [${err.fields.join(", ")}]` : "";
    const detail = err.cause instanceof Error && err.code === "invalid_backup" ? `\n  ${err.cause.message.split("; ").join("\n  ")}` : "";
    return `${err.message} (${err.code})${where}${detail}`;
  }
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    (name === undefined ? io.err : io.out)(`${USAGE}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    io.err(`gatehouse: unknown command "${printable(name.slice(0, 40))}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  try {
    return await (await load())(args, io);
  } catch (err) {
    io.err(`gatehouse ${name}: ${printableLines(explain(err))}\n`);
    return err instanceof CliError ? err.exitCode : EXIT.failure;
  }
}
