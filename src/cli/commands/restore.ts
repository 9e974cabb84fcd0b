import { parseArgs } from "node:util";
import { DEFAULT_MAX_BACKUP_BYTES } from "../../backup/backup-format.js";
import { applyBackup } from "../../backup/import-backup.js";
import { readBackup, summarizeBackup, type BackupSummary } from "../../backup/read-backup.js";
import { exportSqliteFile, SQLITE_HEADER } from "../../backup/sqlite-snapshot.js";
import { systemClock } from "../../core/clock.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { describeDatabase, loadCliConfig, openConfiguredDatabase } from "../configured-database.js";
import { readLimited, readPassphraseFile } from "../files.js";

export const RESTORE_USAGE = `Usage: gatehouse restore <file> [--passphrase-file <file>] [--yes]

Replaces ALL users, roles, settings, API tokens and audit events with the
content of a backup (from "gatehouse backup", or a raw SQLite snapshot).
Everything is validated first; the restore is one transaction (all or
nothing). Every session ends: nobody is signed in afterwards.
  --passphrase-file <f>   passphrase of an encrypted backup
  --yes                   apply it (without it, the backup is only checked and summarized)
Stop running Gatehouse instances first, or restart them afterwards.`;

function options(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        "passphrase-file": { type: "string" },
        yes: { type: "boolean", short: "y", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${RESTORE_USAGE}`, EXIT.usage);
  }
}

function describe(summary: BackupSummary): string {
  const c = summary.counts;
  const privileged = summary.privileged.map((p) => `${printable(p.username)} (${printable(p.role)})`).join(", ");
  const lines = [
    `  taken ${printable(summary.createdAt)}, schema ${printable(summary.schema)}, ${summary.bytes} bytes, ${summary.encrypted ? "encrypted" : "not encrypted"}`,
    `  sha256 ${summary.fileSha256}`,
    `  users ${c.users}, settings ${c.settings}, api_tokens ${c.api_tokens}, user_secrets ${c.user_secrets}, totp_factors ${c.totp_factors}, recovery_codes ${c.recovery_codes}, webauthn_credentials ${c.webauthn_credentials}, external_identities ${c.external_identities}, audit_events ${c.audit_events}, vault_secrets ${c.vault_secrets}, user_vault_secrets ${c.user_vault_secrets}`,
    `  admins and superadmins it grants: ${privileged === "" ? "none" : privileged}`,
  ];
  if (!summary.privileged.some((p) => p.role === "superadmin")) lines.push("  WARNING: it has no superadmin");
  return `${lines.join("\n")}\n`;
}

/** `gatehouse restore <file>`: validates a backup, then (with --yes) replaces the database with it. */
export const restoreCommand: Command = async (args: string[], io: CliIo) => {
  const { values: opts, positionals } = options(args);
  if (opts.help) {
    io.out(`${RESTORE_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new CliError(`expected exactly one backup file\n\n${RESTORE_USAGE}`, EXIT.usage);
  const file = positionals[0]!;
  const passphrase = opts["passphrase-file"] === undefined ? undefined : readPassphraseFile(opts["passphrase-file"]);
  const config = loadCliConfig(io.env);

  let bytes = readLimited(file, DEFAULT_MAX_BACKUP_BYTES);
  if (bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    io.err(`${printable(file)} is a raw SQLite database: checking its header, integrity and schema version…\n`);
    bytes = (await exportSqliteFile(file, systemClock.now())).bytes;
  }
  const backup = await readBackup(bytes, passphrase === undefined ? {} : { passphrase });
  const summary = summarizeBackup(backup);
  io.err(`${printable(file)} is a valid backup:\n${describe(summary)}`);
  if (!opts.yes) {
    io.err(`Nothing was changed. Re-run with --yes to replace everything in ${describeDatabase(config)} with it.\n`);
    return EXIT.usage;
  }

  const database = await openConfiguredDatabase(config);
  try {
    const result = await applyBackup(database.db, backup, {
      at: systemClock.now(),
      actorId: null,
      ip: "local",
      userAgent: "gatehouse-cli",
      requestId: null,
    });
    const c = result.counts;
    io.err(
      `Restored into ${describeDatabase(config)}: users ${c.users}, settings ${c.settings}, api_tokens ${c.api_tokens}, user_secrets ${c.user_secrets}, ` +
        `totp_factors ${c.totp_factors}, recovery_codes ${c.recovery_codes}, webauthn_credentials ${c.webauthn_credentials}, external_identities ${c.external_identities}, audit_events ${c.audit_events}, vault_secrets ${c.vault_secrets}, user_vault_secrets ${c.user_vault_secrets}; ${result.sessionsEnded} session(s) ended.\n` +
        "Restart running Gatehouse instances so no cached session survives.\n",
    );
    return EXIT.ok;
  } finally {
    await database.close();
  }
};
