import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Sudo: when the session last proved the password (re-authentication).
  await db.schema.alterTable("sessions").addColumn("reauth_at", "bigint").execute();

  // Runtime settings changed by superadmins (registration, lifetimes…): one JSON value per key.
  await db.schema
    .createTable("settings")
    .addColumn("key", "varchar(64)", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "varchar(36)")
    .execute();

  // Personal API tokens: only the SHA-256 of the secret is stored.
  await db.schema
    .createTable("api_tokens")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "varchar(100)", (c) => c.notNull())
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("prefix", "varchar(16)", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();
  await db.schema.createIndex("api_tokens_user_idx").on("api_tokens").columns(["user_id", "created_at"]).execute();

  // One-time secrets that are not sessions (the first-start setup link): hashed, expiring, single use.
  await db.schema
    .createTable("one_time_tokens")
    .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
    .addColumn("purpose", "varchar(32)", (c) => c.notNull())
    .addColumn("user_id", "varchar(36)", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();

  // Indexed search for the admin user list (100,000 users).
  await db.schema.createIndex("users_role_idx").on("users").columns(["role", "created_at"]).execute();
  await db.schema.createIndex("users_created_idx").on("users").columns(["created_at", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("users_created_idx").execute();
  await db.schema.dropIndex("users_role_idx").execute();
  await db.schema.dropTable("one_time_tokens").execute();
  await db.schema.dropTable("api_tokens").execute();
  await db.schema.dropTable("settings").execute();
  await db.schema.alterTable("sessions").dropColumn("reauth_at").execute();
}
