import type { SecretContext } from "./secret-box.js";

/**
 * A column that holds {@link SecretBox} envelopes. Every such column is
 * listed in {@link ENCRYPTED_COLUMNS}, so that key rotation re-encrypts it,
 * `gatehouse keys status` counts it and the backup test checks it.
 */
export interface EncryptedColumn {
  table: string;
  /** The column of envelopes. */
  column: string;
  /** A unique column to walk the table in order (batches of a rewrap). */
  keyColumn: string;
  /** The columns whose values, joined with `/`, form the row id bound into each envelope. */
  idColumns: readonly string[];
  /**
   * True when the column may also hold values that are not envelopes and are
   * left alone: an empty value (a sent mail's payload is blanked) or one
   * written before envelopes existed. Rotation and counts skip them.
   */
  mixed?: boolean;
}

/** Second-factor seeds and other per-user secrets, one per (user, kind). */
export const USER_SECRETS_COLUMN: EncryptedColumn = {
  table: "user_secrets",
  column: "secret_envelope",
  keyColumn: "id",
  idColumns: ["user_id", "kind"],
};

/** Queued mail (its body holds a live link until sent; blanked once sent or given up). */
export const MAIL_OUTBOX_COLUMN: EncryptedColumn = {
  table: "mail_outbox",
  column: "payload",
  keyColumn: "id",
  idColumns: ["id"],
  mixed: true,
};

/** The private JWKs of the identity JWT's signing keys (docs/identity-jwt.md), one per key id. */
export const SIGNING_KEYS_COLUMN: EncryptedColumn = {
  table: "signing_keys",
  column: "private_jwk",
  keyColumn: "kid",
  idColumns: ["kid"],
};

/** The vault's operator secrets for upstream apps (src/core/vault), one per name. */
export const VAULT_SECRETS_COLUMN: EncryptedColumn = {
  table: "vault_secrets",
  column: "secret_envelope",
  keyColumn: "name",
  idColumns: ["name"],
};

/** Keys users store for themselves (src/core/vault), one per (user, name). */
export const USER_VAULT_SECRETS_COLUMN: EncryptedColumn = {
  table: "user_vault_secrets",
  column: "secret_envelope",
  keyColumn: "id",
  idColumns: ["user_id", "name"],
};

/** Every encrypted column of the schema. A new one must be added here. */
export const ENCRYPTED_COLUMNS: readonly EncryptedColumn[] = [USER_SECRETS_COLUMN, MAIL_OUTBOX_COLUMN, SIGNING_KEYS_COLUMN, VAULT_SECRETS_COLUMN, USER_VAULT_SECRETS_COLUMN];

/** The context an envelope of `entry` is sealed for, from its row's id columns. */
export function contextOf(entry: EncryptedColumn, row: Record<string, unknown>): SecretContext {
  return { table: entry.table, column: entry.column, id: entry.idColumns.map((c) => String(row[c])).join("/") };
}
