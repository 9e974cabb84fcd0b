import { createHash } from "node:crypto";
import { GatehouseError } from "../core/errors.js";
import {
  BACKUP_TABLES, DEFAULT_MAX_BACKUP_BYTES, DEFAULT_MAX_ROWS, type BackupCounts, type BackupTable, type ValidatedBackup,
} from "./backup-format.js";
import { openDocument } from "./backup-document.js";
import { decryptBackup, isEncryptedBackup } from "./envelope.js";
import { assertSpecsCurrent } from "./loose-db.js";
import { parseSafeJson, UnsafeJsonError } from "./safe-json.js";
import { validateBackup } from "./validate-backup.js";

/** Options of {@link readBackup}. */
export interface ReadBackupOptions {
  /** Needed for an encrypted backup; ignored for a plain one. */
  passphrase?: string;
  /** Largest file accepted, bytes (default {@link DEFAULT_MAX_BACKUP_BYTES}). */
  maxBytes?: number;
  /** Most rows accepted per table (defaults {@link DEFAULT_MAX_ROWS}). */
  maxRows?: Partial<Record<BackupTable, number>>;
}

/**
 * Reads a backup completely without touching any database: size limit,
 * decryption (if it is encrypted), checksum, safe JSON parsing (no
 * `__proto__`/`constructor`/`prototype` keys), then every rule of
 * {@link validateBackup}. Errors: `payload_too_large`, `passphrase_required`,
 * `integrity_error` (damaged, altered, truncated, wrong passphrase) and
 * `invalid_backup` (intact but unacceptable).
 */
export async function readBackup(bytes: Buffer, options: ReadBackupOptions = {}): Promise<ValidatedBackup> {
  assertSpecsCurrent();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BACKUP_BYTES;
  if (bytes.length > maxBytes) throw new GatehouseError("payload_too_large", { fields: ["file"] });
  if (bytes.length === 0) throw new GatehouseError("integrity_error", { fields: ["file"] });
  const fileSha256 = createHash("sha256").update(bytes).digest("hex");
  const encrypted = isEncryptedBackup(bytes);
  let plain = bytes;
  if (encrypted) {
    if (options.passphrase === undefined || options.passphrase === "") throw new GatehouseError("passphrase_required", { fields: ["passphrase"] });
    plain = await decryptBackup(bytes, options.passphrase);
  }
  const text = openDocument(plain);
  let parsed: unknown;
  try {
    parsed = parseSafeJson(text);
  } catch (err) {
    const reason = err instanceof UnsafeJsonError ? err.reason : "syntax";
    throw new GatehouseError("invalid_backup", { fields: [reason === "forbidden_key" ? "__proto__" : "document"], cause: err });
  }
  const maxRows = { ...DEFAULT_MAX_ROWS, ...options.maxRows };
  const content = validateBackup(parsed, maxRows);
  return { ...content, fileSha256, bytes: bytes.length, encrypted };
}

/** What a backup holds, for a confirmation prompt (BKP-04: role grants are shown before they apply). */
export interface BackupSummary {
  createdAt: string;
  schema: string;
  encrypted: boolean;
  bytes: number;
  fileSha256: string;
  counts: BackupCounts;
  /** Every admin and superadmin the restore would create. */
  privileged: { username: string; role: string }[];
}

/** Summarizes a validated backup. */
export function summarizeBackup(backup: ValidatedBackup): BackupSummary {
  const counts = Object.fromEntries(BACKUP_TABLES.map((t) => [t, backup.tables[t].length])) as BackupCounts;
  const privileged = backup.tables.users
    .filter((u) => u.role !== "user")
    .map((u) => ({ username: u.username as string, role: u.role as string }));
  return {
    createdAt: backup.createdAt,
    schema: backup.schema,
    encrypted: backup.encrypted,
    bytes: backup.bytes,
    fileSha256: backup.fileSha256,
    counts,
    privileged,
  };
}
