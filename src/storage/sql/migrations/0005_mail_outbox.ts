import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Links mailed to a user (password reset, email verification, email change):
  // only the SHA-256 of the token is stored, bound to one user and one address.
  await db.schema
    .createTable("email_tokens")
    .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
    .addColumn("purpose", "varchar(32)", (c) => c.notNull())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("email_normalized", "varchar(255)", (c) => c.notNull())
    .addColumn("email", "varchar(255)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("email_tokens_user_idx").on("email_tokens").columns(["user_id", "purpose"]).execute();

  // The durable outbox: a mail is written here in the same transaction as the
  // token it carries, then sent by the worker. `payload` is encrypted
  // (AES-256-GCM, key derived from SECRET_KEY) and blanked once sent.
  await db.schema
    .createTable("mail_outbox")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("kind", "varchar(32)", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "varchar(36)")
    .addColumn("lease_until", "bigint")
    .addColumn("sent_at", "bigint")
    .addColumn("last_error", "varchar(200)")
    .execute();
  await db.schema.createIndex("mail_outbox_due_idx").on("mail_outbox").columns(["status", "next_attempt_at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("mail_outbox").execute();
  await db.schema.dropTable("email_tokens").execute();
}
