import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // How each session was proved: its assurance level and the methods used
  // (RFC 8176 values, space-separated). Every session before this migration
  // was a password sign-in.
  await db.schema.alterTable("sessions").addColumn("aal", "varchar(8)", (c) => c.notNull().defaultTo("aal1")).execute();
  await db.schema.alterTable("sessions").addColumn("amr", "varchar(64)", (c) => c.notNull().defaultTo("pwd")).execute();

  // Sign-ins waiting for a second factor: not sessions. Only the SHA-256 of
  // the pending cookie's token is stored; a row is deleted when it is used,
  // when it runs out of attempts, or when it expires (5 minutes).
  await db.schema
    .createTable("pending_sign_ins")
    .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("amr", "varchar(64)", (c) => c.notNull())
    .addColumn("remember", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("ip", "varchar(64)", (c) => c.notNull())
    .addColumn("user_agent", "varchar(512)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("pending_sign_ins_user_idx").on("pending_sign_ins").column("user_id").execute();
  await db.schema.createIndex("pending_sign_ins_expires_idx").on("pending_sign_ins").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("pending_sign_ins").execute();
  await db.schema.alterTable("sessions").dropColumn("amr").execute();
  await db.schema.alterTable("sessions").dropColumn("aal").execute();
}
