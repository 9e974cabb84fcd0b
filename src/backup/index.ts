/**
 * Backup and restore: the public surface used by the CLI and the admin API.
 *
 * Export: {@link exportBackup} / {@link exportBackupDetailed}. Restore in two
 * steps so a caller can show what a backup grants before applying it:
 * {@link readBackup} (validates everything, touches nothing) →
 * {@link summarizeBackup} → {@link applyBackup} (one transaction); or
 * {@link importBackup} for both at once. SQLite raw snapshots:
 * {@link snapshotSqlite}, {@link checkSqliteFile}, {@link exportSqliteFile}.
 */
export { BACKUP_FORMAT, BACKUP_VERSION, DEFAULT_MAX_BACKUP_BYTES, DEFAULT_MAX_ROWS, LATEST_SCHEMA } from "./backup-format.js";
export type { BackupCounts, ValidatedBackup } from "./backup-format.js";
export { isEncryptedBackup } from "./envelope.js";
export { exportBackup, exportBackupDetailed, type ExportOptions, type ExportResult } from "./export-backup.js";
export { applyBackup, importBackup, type ImportAuditRecord, type ImportOptions, type ImportResult } from "./import-backup.js";
export { readBackup, summarizeBackup, type BackupSummary, type ReadBackupOptions } from "./read-backup.js";
export { checkSqliteFile, exportSqliteFile, snapshotSqlite } from "./sqlite-snapshot.js";
