import { createHash, randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { exportBackupDetailed } from "../../backup/export-backup.js";
import { MIN_PASSPHRASE_LENGTH } from "../../backup/envelope.js";
import { snapshotSqlite } from "../../backup/sqlite-snapshot.js";
import { createAuditLog } from "../../core/audit/audit-log.js";
import { systemClock } from "../../core/clock.js";
import { cryptoRandom } from "../../core/random.js";
import { createSqlAuditStore } from "../../storage/sql/sql-audit-store.js";
import { CliError, EXIT, type CliIo, type Command } from "../cli-io.js";
import { describeDatabase, loadCliConfig, openConfiguredDatabase, sqliteFileOf } from "../configured-database.js";
import { readPassphraseFile, writePrivateFile } from "../files.js";

export const BACKUP_USAGE = `Usage: gatehouse backup --out <file|-> [--passphrase-file <file>] [--sqlite] [--force]

Writes a portable, checksummed backup of all durable state (users, roles,
settings, API-token hashes, audit events; never live sessions).
  --out, -o <file>        where to write it ("-" for standard output)
  --passphrase-file <f>   encrypt it (AES-256-GCM, key from scrypt) with the passphrase in <f>
  --sqlite                also write a raw SQLite snapshot (online backup API) to <file>.sqlite
  --force                 replace existing output files`;

function options(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        out: { type: "string", short: "o" },
        "passphrase-file": { type: "string" },
        sqlite: { type: "boolean", default: false },
        force: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${BACKUP_USAGE}`, EXIT.usage);
  }
}

/** `gatehouse backup`: exports the configured database (and optionally a raw SQLite snapshot). */
export const backupCommand: Command = async (args: string[], io: CliIo) => {
  const opts = options(args);
  if (opts.help) {
    io.out(`${BACKUP_USAGE}\n`);
    return EXIT.ok;
  }
  if (opts.out === undefined) throw new CliError(`--out is required\n\n${BACKUP_USAGE}`, EXIT.usage);
  if (opts.out === "-" && io.stdoutIsTty) throw new CliError("refusing to write a backup to a terminal; use --out <file>", EXIT.usage);
  if (opts.sqlite && opts.out === "-") throw new CliError("--sqlite needs --out <file> (the snapshot goes next to it)", EXIT.usage);
  const passphrase = opts["passphrase-file"] === undefined ? undefined : readPassphraseFile(opts["passphrase-file"]);
  if (passphrase !== undefined && passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new CliError(`the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`, EXIT.usage);
  }
  const config = loadCliConfig(io.env);
  const sqliteFile = sqliteFileOf(config);
  if (opts.sqlite && sqliteFile === null) throw new CliError("--sqlite works only with SQLite; this configuration uses PostgreSQL (use pg_dump for raw copies)", EXIT.usage);

  const snapshot = opts.sqlite ? `${opts.out}.sqlite` : null;
  for (const file of [opts.out, snapshot]) {
    if (file !== null && file !== "-" && !opts.force && existsSync(file)) throw new CliError(`${file} already exists (use --force to replace it)`);
  }

  const database = await openConfiguredDatabase(config);
  try {
    const result = await exportBackupDetailed(database.db, { now: systemClock.now(), ...(passphrase === undefined ? {} : { passphrase }) });
    const sha256 = createHash("sha256").update(result.bytes).digest("hex");
    if (opts.out === "-") await io.outBytes(result.bytes);
    else writePrivateFile(opts.out, result.bytes, opts.force);
    if (snapshot !== null && sqliteFile !== null) {
      const partial = `${snapshot}.${randomBytes(6).toString("hex")}.partial`;
      try {
        await snapshotSqlite(sqliteFile, partial);
        renameSync(partial, snapshot);
      } catch (err) {
        rmSync(partial, { force: true });
        throw new CliError(`the SQLite snapshot failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const audit = createAuditLog({ store: createSqlAuditStore(database.db), clock: systemClock, random: cryptoRandom });
    await audit.record({
      type: "backup_exported",
      ip: "local",
      userAgent: "gatehouse-cli",
      details: { bytes: result.bytes.length, sha256, encrypted: result.encrypted, via: "cli", ...result.counts },
    });
    const c = result.counts;
    io.err(
      `Backup of ${describeDatabase(config)} written to ${opts.out === "-" ? "standard output" : opts.out}\n` +
        `  ${result.bytes.length} bytes, sha256 ${sha256}, ${result.encrypted ? "encrypted" : "NOT encrypted"}\n` +
        `  users ${c.users}, settings ${c.settings}, api_tokens ${c.api_tokens}, user_secrets ${c.user_secrets}, totp_factors ${c.totp_factors}, recovery_codes ${c.recovery_codes}, webauthn_credentials ${c.webauthn_credentials}, external_identities ${c.external_identities}, audit_events ${c.audit_events}, vault_secrets ${c.vault_secrets}, user_vault_secrets ${c.user_vault_secrets}\n`,
    );
    if (snapshot) io.err(`Raw SQLite snapshot written to ${snapshot} (not encrypted)\n`);
    if (!result.encrypted) io.err("Warning: the backup holds password and token hashes; store it privately or use --passphrase-file.\n");
    return EXIT.ok;
  } finally {
    await database.close();
  }
};
