import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import pino from "pino";
import { createGatehouse } from "../../compose.js";
import { isGatehouseError } from "../../core/errors.js";
import { parseImportMapping } from "../../core/user-import/import-mapping.js";
import type { ImportFormat, ImportTable } from "../../core/user-import/import-table.js";
import { readImportFile } from "../../core/user-import/read-import-file.js";
import type { ImportSource, ImportSummary } from "../../core/user-import/user-import-service.js";
import { MAX_IMPORT_BYTES } from "../../http/routes/admin/backup-routes.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { describeDatabase, loadCliConfig } from "../configured-database.js";
import { readLimited } from "../files.js";
import { isDatabaseSource, readSourceTable } from "../read-source-table.js";

export const IMPORT_USAGE = `Usage: gatehouse import users <file|db-url> --map <field=column,…> [options]

Imports another app's users: a CSV file (with a header row), a JSON lines
file (one object per line), or a table of a database (sqlite:/path/app.db,
opened read-only, or postgres://…, read in a read-only transaction).
Without --apply it is a dry run: it reports what it would do and changes
nothing. With --apply every row without a problem is inserted in one
transaction (all or nothing); rows with problems are skipped and listed by
row number.

  --format csv|jsonl|table   the source format (default: table for a db-url,
                             else from the file name: .csv, .jsonl/.ndjson)
  --map f=c,…                Gatehouse field = source column; fields: username
                             (required), email, password_hash, role, blocked,
                             email_verified ("blocked=!is_active" negates)
  --table <name>             the table of a db-url (name or schema.name)
  --roles v=r,…              source role value = user|admin (never superadmin)
  --default-role user|admin  role of a row whose role value is not mapped
                             (default user when no role column is mapped)
  --apply                    import (without it: a dry run)
  --json                     print the summary as JSON

Password hashes are stored as they are (werkzeug, Django, bcrypt, Argon2):
each user signs in with their old password, which is re-hashed then. A row
without a hash gets an account without a password (a reset link sets one).
At most 100,000 rows; the file at most 256 MiB.`;

function options(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: "string" },
        map: { type: "string" },
        table: { type: "string" },
        roles: { type: "string" },
        "default-role": { type: "string" },
        apply: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${IMPORT_USAGE}`, EXIT.usage);
  }
}

function formatOf(given: string | undefined, source: string): ImportFormat {
  const database = isDatabaseSource(source);
  const format = given ?? (database ? "table" : source.endsWith(".csv") ? "csv" : /\.(jsonl|ndjson)$/.test(source) ? "jsonl" : undefined);
  if (format === undefined) throw new CliError(`--format is required (csv, jsonl or table)\n\n${IMPORT_USAGE}`, EXIT.usage);
  if (format !== "csv" && format !== "jsonl" && format !== "table") throw new CliError(`--format must be csv, jsonl or table`, EXIT.usage);
  if ((format === "table") !== database) throw new CliError(`--format table goes with a db-url (sqlite:… or postgres://…), csv and jsonl with a file`, EXIT.usage);
  return format;
}

function describe(summary: ImportSummary, apply: boolean): string {
  const list = (counts: Record<string, number>) => Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const lines = [
    `  rows ${summary.rows}: importable ${summary.importable}, skipped ${summary.skipped}, imported ${summary.imported}`,
    `  password hashes: ${list(summary.by_scheme)}; without a password ${summary.without_password}`,
    `  roles: ${list(summary.roles)}; blocked ${summary.blocked}`,
  ];
  for (const p of summary.problems) lines.push(`  row ${p.row}: ${p.field} ${p.problem}`);
  if (summary.problems_omitted > 0) lines.push(`  … and ${summary.problems_omitted} more problem(s)`);
  if (!apply) lines.push("Dry run: nothing was changed. Re-run with --apply to import the importable rows.");
  return `${lines.join("\n")}\n`;
}

/** `gatehouse import users …`: imports another app's users into the configured database. */
export const importCommand: Command = async (args: string[], io: CliIo) => {
  const { values: opts, positionals } = options(args);
  if (opts.help) {
    io.out(`${IMPORT_USAGE}\n`);
    return EXIT.ok;
  }
  const [what, source, ...rest] = positionals;
  if (what !== "users" || source === undefined || rest.length > 0) throw new CliError(`expected "import users <file|db-url>"\n\n${IMPORT_USAGE}`, EXIT.usage);
  if (opts.map === undefined) throw new CliError(`--map is required (at least username=<column>)\n\n${IMPORT_USAGE}`, EXIT.usage);
  const format = formatOf(opts.format, source);
  if (format === "table" && opts.table === undefined) throw new CliError(`--table is required with a db-url`, EXIT.usage);
  if (format !== "table" && opts.table !== undefined) throw new CliError(`--table goes with a db-url only`, EXIT.usage);
  if (opts["default-role"] === "superadmin") throw new CliError("an import never assigns superadmin", EXIT.usage);

  try {
    const mapping = parseImportMapping({ map: opts.map, roles: opts.roles, defaultRole: opts["default-role"] });
    let table: ImportTable;
    let from: ImportSource;
    if (format === "table") {
      const read = await readSourceTable(source, opts.table!);
      table = read.table;
      from = { format, kind: read.kind, sha256: read.sha256, bytes: read.bytes };
    } else {
      const bytes = readLimited(source, MAX_IMPORT_BYTES);
      table = readImportFile(bytes, format);
      from = { format, kind: "file", sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
    }
    const config = loadCliConfig(io.env);
    const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
    try {
      const summary = await gh.userImport.importUsers(table, mapping, { apply: opts.apply, source: from, actor: { actorId: null, ip: "local", userAgent: "gatehouse-cli" } });
      if (opts.json) io.out(`${JSON.stringify(summary)}\n`);
      else io.out(`${opts.apply ? `Imported into ${describeDatabase(config)}` : `Dry run of ${printable(source.startsWith("postgres") ? "the PostgreSQL table" : source)}`}:\n${describe(summary, opts.apply)}`);
      return EXIT.ok;
    } finally {
      await gh.close();
    }
  } catch (err) {
    if (isGatehouseError(err)) {
      const where = err.fields && err.fields.length > 0 ? `: ${err.fields.join("; ")}` : "";
      throw new CliError(`${err.message} (${err.code})${where}`);
    }
    throw err;
  }
};
