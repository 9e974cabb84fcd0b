import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../storage/sql/database.js";
import { BACKUP_TABLES, CLEARED_TABLES, IMPORT_BATCH_SIZE, type BackupCounts, type ValidatedBackup } from "./backup-format.js";
import { looseDb } from "./loose-db.js";
import { readBackup, type ReadBackupOptions } from "./read-backup.js";
import { columnsOf } from "./table-specs.js";

/** Who restored, recorded as a `database_imported` audit event in the same transaction. */
export interface ImportAuditRecord {
  at: number;
  actorId: string | null;
  ip: string;
  userAgent: string;
  requestId: string | null;
}

/** Options of {@link importBackup}. */
export interface ImportOptions extends ReadBackupOptions {
  /** When given, a `database_imported` event is appended after the backup's own events. */
  audit?: ImportAuditRecord;
}

/** What a restore did. */
export interface ImportResult {
  /** Rows inserted per table. */
  counts: BackupCounts;
  /** Sessions that existed before and were ended (none are ever imported). */
  sessionsEnded: number;
  /** SHA-256 (hex) and size of the file as given. */
  fileSha256: string;
  bytes: number;
}

/**
 * Replaces all durable state with a validated backup in ONE transaction:
 * sessions, one-time tokens, API tokens, settings, audit events and users are
 * deleted (children first), then the backup's rows are inserted in batches.
 * Any failure rolls everything back. Sessions are never imported, so after a
 * restore nobody is signed in. Callers holding a session cache must clear it.
 */
export async function applyBackup(db: Kysely<Database>, backup: ValidatedBackup, audit?: ImportAuditRecord): Promise<ImportResult> {
  const counts = { users: 0, settings: 0, api_tokens: 0, user_secrets: 0, totp_factors: 0, recovery_codes: 0, webauthn_credentials: 0, external_identities: 0, audit_events: 0, vault_secrets: 0, user_vault_secrets: 0 } satisfies BackupCounts;
  let sessionsEnded = 0;
  await db.transaction().execute(async (trx) => {
    const loose = looseDb(trx);
    for (const table of CLEARED_TABLES) {
      const result = await loose.deleteFrom(table).executeTakeFirst();
      if (table === "sessions") sessionsEnded = Number(result.numDeletedRows);
    }
    for (const table of BACKUP_TABLES) {
      const columns = columnsOf(table);
      const rows = backup.tables[table];
      for (let i = 0; i < rows.length; i += IMPORT_BATCH_SIZE) {
        const batch = rows.slice(i, i + IMPORT_BATCH_SIZE).map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
        await loose.insertInto(table).values(batch).execute();
        counts[table] += batch.length;
      }
    }
    if (audit) {
      const details = { bytes: backup.bytes, sha256: backup.fileSha256, encrypted: backup.encrypted, ...counts, sessions_ended: sessionsEnded };
      await trx
        .insertInto("audit_events")
        .values({
          id: randomUUID(),
          type: "database_imported",
          at: audit.at,
          user_id: null,
          actor_id: audit.actorId,
          ip: audit.ip.slice(0, 64),
          user_agent: audit.userAgent.slice(0, 512),
          details: JSON.stringify(details),
          request_id: audit.requestId,
        })
        .execute();
    }
  });
  return { counts, sessionsEnded, fileSha256: backup.fileSha256, bytes: backup.bytes };
}

/**
 * Validates a backup file completely ({@link readBackup}: size, passphrase,
 * checksum, safe JSON, every row) and only then applies it
 * ({@link applyBackup}). All or nothing: on any error the database is as it was.
 */
export async function importBackup(db: Kysely<Database>, bytes: Buffer, options: ImportOptions = {}): Promise<ImportResult> {
  const backup = await readBackup(bytes, options);
  return applyBackup(db, backup, options.audit);
}
