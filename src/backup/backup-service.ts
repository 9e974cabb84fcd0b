import type { Kysely } from "kysely";
import type { Database } from "../storage/sql/database.js";
import { exportBackupDetailed, type ExportResult } from "./export-backup.js";
import { applyBackup, type ImportAuditRecord, type ImportResult } from "./import-backup.js";
import { readBackup, summarizeBackup, type BackupSummary } from "./read-backup.js";

/** Backup and restore bound to one database, for the admin API (no Kysely in the HTTP layer). */
export interface BackupService {
  export(now: number, passphrase?: string): Promise<ExportResult & { sha256: string }>;
  /** Validates everything and describes what a restore would do; touches nothing. */
  inspect(bytes: Buffer, passphrase?: string): Promise<BackupSummary>;
  /** Validates, then replaces all durable state in one transaction (audited inside it). */
  restore(bytes: Buffer, audit: ImportAuditRecord, passphrase?: string): Promise<ImportResult>;
}

/** Creates the {@link BackupService} over `db`. */
export function createBackupService(db: Kysely<Database>, maxBytes: number): BackupService {
  const options = (passphrase?: string) => ({ maxBytes, ...(passphrase ? { passphrase } : {}) });
  return {
    async export(now, passphrase) {
      const result = await exportBackupDetailed(db, { now, ...(passphrase ? { passphrase } : {}) });
      const { createHash } = await import("node:crypto");
      return { ...result, sha256: createHash("sha256").update(result.bytes).digest("hex") };
    },
    async inspect(bytes, passphrase) {
      return summarizeBackup(await readBackup(bytes, options(passphrase)));
    },
    async restore(bytes, audit, passphrase) {
      return applyBackup(db, await readBackup(bytes, options(passphrase)), audit);
    },
  };
}
