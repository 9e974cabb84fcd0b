import type { Kysely } from "kysely";
import { GatehouseError } from "../core/errors.js";
import type { Database } from "../storage/sql/database.js";
import {
  BACKUP_FORMAT, BACKUP_TABLES, BACKUP_VERSION, EXPORT_PAGE_SIZE, LATEST_SCHEMA, type BackupCounts, type BackupRow,
} from "./backup-format.js";
import { createDocumentWriter } from "./backup-document.js";
import { encryptBackup, MIN_PASSPHRASE_LENGTH } from "./envelope.js";
import { readBackup } from "./read-backup.js";
import { assertSpecsCurrent, looseDb } from "./loose-db.js";
import { columnsOf, PRIMARY_KEYS } from "./table-specs.js";

const UNLIMITED_ROWS = { users: Infinity, settings: Infinity, api_tokens: Infinity, user_secrets: Infinity, totp_factors: Infinity, recovery_codes: Infinity, webauthn_credentials: Infinity, external_identities: Infinity, audit_events: Infinity, vault_secrets: Infinity, user_vault_secrets: Infinity };

/** Options of {@link exportBackup}. */
export interface ExportOptions {
  /** The backup's `createdAt` (epoch ms or a Date; injected, never read from a global clock). */
  now: number | Date;
  /** When given, the document is sealed in the AES-256-GCM envelope under this passphrase. */
  passphrase?: string;
}

/** A backup and what it holds. */
export interface ExportResult {
  bytes: Buffer;
  counts: BackupCounts;
  encrypted: boolean;
}

/**
 * Writes every durable table (users, settings, API-token hashes, audit
 * events — never sessions or one-time tokens) as a versioned, checksummed
 * JSON document, optionally encrypted. Rows are read in pages of
 * {@link EXPORT_PAGE_SIZE} inside one repeatable-read transaction, so the
 * backup is a consistent snapshot on both dialects. The finished document
 * is then read back with the import's own rules ({@link readBackup}): a
 * backup that could not be restored fails now with `invalid_backup` naming
 * the row, instead of on the day it is needed.
 */
export async function exportBackupDetailed(db: Kysely<Database>, options: ExportOptions): Promise<ExportResult> {
  assertSpecsCurrent();
  if (options.passphrase !== undefined && options.passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new GatehouseError("invalid_request", { fields: ["passphrase"] });
  }
  const createdAt = new Date(options.now).toISOString();
  const writer = createDocumentWriter();
  const counts = { users: 0, settings: 0, api_tokens: 0, user_secrets: 0, totp_factors: 0, recovery_codes: 0, webauthn_credentials: 0, external_identities: 0, audit_events: 0, vault_secrets: 0, user_vault_secrets: 0 } satisfies BackupCounts;
  writer.write(
    `{"format":${JSON.stringify(BACKUP_FORMAT)},"version":${BACKUP_VERSION},"createdAt":${JSON.stringify(createdAt)},` +
      `"schema":${JSON.stringify(LATEST_SCHEMA)},"tables":{`,
  );
  await db
    .transaction()
    .setIsolationLevel("repeatable read")
    .execute(async (trx) => {
      const loose = looseDb(trx);
      for (const [t, table] of BACKUP_TABLES.entries()) {
        const columns = columnsOf(table);
        const key = PRIMARY_KEYS[table];
        writer.write(`${t === 0 ? "" : ","}${JSON.stringify(table)}:[`);
        let last: string | null = null;
        for (;;) {
          let query = loose.selectFrom(table).select(columns).orderBy(key).limit(EXPORT_PAGE_SIZE);
          if (last !== null) query = query.where(key, ">", last);
          const rows = await query.execute();
          const parts: string[] = [];
          for (const raw of rows) {
            const row: BackupRow = {};
            for (const column of columns) row[column] = raw[column] ?? null;
            parts.push(JSON.stringify(row));
            counts[table]++;
          }
          if (parts.length > 0) writer.write(`${last === null ? "" : ","}${parts.join(",")}`);
          if (rows.length < EXPORT_PAGE_SIZE) break;
          last = String(rows[rows.length - 1]![key]);
        }
        writer.write("]");
      }
    });
  writer.write("}");
  const plain = writer.seal();
  // Self-check with the import's own rules: a backup that could not be restored is refused now, not on the day it is needed.
  await readBackup(plain, { maxBytes: Number.POSITIVE_INFINITY, maxRows: UNLIMITED_ROWS });
  if (options.passphrase === undefined) return { bytes: plain, counts, encrypted: false };
  return { bytes: await encryptBackup(plain, options.passphrase), counts, encrypted: true };
}

/**
 * Exports a backup of all durable state as one Buffer (see
 * {@link exportBackupDetailed} for what it holds and how it is read).
 */
export async function exportBackup(db: Kysely<Database>, options: ExportOptions): Promise<Buffer> {
  return (await exportBackupDetailed(db, options)).bytes;
}
