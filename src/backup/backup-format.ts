import { migrations } from "../storage/sql/migrations/index.js";

/** The `format` member of every Gatehouse backup document. */
export const BACKUP_FORMAT = "gatehouse-backup";

/** The document version this code writes and reads. */
export const BACKUP_VERSION = 1;

/** The latest migration: the schema a backup was taken from must match it. */
export const LATEST_SCHEMA: string = Object.keys(migrations).sort().at(-1) ?? "";

/**
 * The tables a backup carries, in insertion order (parents first). Live
 * sessions and one-time tokens are deliberately absent: they are never
 * exported and never imported (BKP-04). So are invitations: pending links
 * are short-lived secrets of their own; a restore empties the table, and
 * admins invite again (docs/registration.md). Per-user secrets are carried
 * as their envelopes only (ciphertext); restoring them needs the keyring
 * they were sealed under (docs/operations.md). An authenticator app's row
 * (confirmed, last used step) travels with them; its secret is in user_secrets.
 * Recovery codes are carried as their Argon2id hashes only (the codes
 * themselves exist nowhere).
 * Sign-ins waiting for a second factor are neither sessions nor data: a
 * restore ends them with the sessions. Passkeys are carried (public keys
 * and counters, no secret); their ceremonies' challenges are not.
 * Linked provider identities are carried (issuer, subject, the last email;
 * no provider token exists to carry); provider round trips in flight are not:
 * a restore ends them, and the browser starts the sign-in again.
 * The identity JWT's signing keys are not carried either: a restore deletes
 * them, and the next start (or the next token signed) makes a new key.
 * The vault's operator secrets and users' own keys (docs/secrets.md) are
 * carried like per-user secrets: envelopes (and the shown prefix) only.
 */
export const BACKUP_TABLES = ["users", "settings", "api_tokens", "user_secrets", "totp_factors", "recovery_codes", "webauthn_credentials", "external_identities", "audit_events", "vault_secrets", "user_vault_secrets"] as const;

/** One of {@link BACKUP_TABLES}. */
export type BackupTable = (typeof BACKUP_TABLES)[number];

/** Tables emptied by an import, children first (sessions, pending sign-ins and one-time tokens included). */
export const CLEARED_TABLES = ["user_vault_secrets", "vault_secrets", "signing_keys", "sessions", "pending_sign_ins", "oauth_transactions", "external_identities", "webauthn_challenges", "webauthn_credentials", "one_time_tokens", "email_tokens", "mail_outbox", "invitations", "totp_factors", "recovery_codes", "user_secrets", "api_tokens", "settings", "audit_events", "users"] as const;

/** Largest backup file accepted by default (256 MiB; a JS string cannot hold much more than 512 MiB). */
export const DEFAULT_MAX_BACKUP_BYTES = 256 * 1024 * 1024;

/** Most rows accepted per table by default. */
export const DEFAULT_MAX_ROWS: Record<BackupTable, number> = {
  users: 1_000_000,
  settings: 1_000,
  api_tokens: 1_000_000,
  user_secrets: 1_000_000,
  totp_factors: 1_000_000,
  recovery_codes: 10_000_000,
  webauthn_credentials: 1_000_000,
  external_identities: 1_000_000,
  audit_events: 5_000_000,
  vault_secrets: 100_000,
  user_vault_secrets: 1_000_000,
};

/** Rows read per query while exporting, and inserted per statement while importing. */
export const EXPORT_PAGE_SIZE = 1000;
export const IMPORT_BATCH_SIZE = 500;

/** A row of a backup: column name → value, exactly the columns of database.ts. */
export type BackupRow = Record<string, string | number | null>;

/** The parsed, fully validated content of a backup. */
export interface ValidatedBackup {
  createdAt: string;
  schema: string;
  tables: Record<BackupTable, BackupRow[]>;
  /** SHA-256 (hex) of the file as given (before decryption), for the audit trail. */
  fileSha256: string;
  /** Size of the file as given, bytes. */
  bytes: number;
  encrypted: boolean;
}

/** Row counts per table. */
export type BackupCounts = Record<BackupTable, number>;
