import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Per-user secrets (second-factor seeds): only AES-256-GCM envelopes
  // (`v1.<key id>.<nonce>.<ciphertext>`), bound to `<user_id>/<kind>`, never
  // the plaintext. One secret per user and kind.
  await db.schema
    .createTable("user_secrets")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("kind", "varchar(32)", (c) => c.notNull())
    .addColumn("secret_envelope", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("user_secrets_user_kind_unique", ["user_id", "kind"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("user_secrets").execute();
}
