import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // The secret vault (src/core/vault, docs/secrets.md). Named secrets a
  // superadmin stores for upstream apps (an AI provider's API key, a webhook
  // token) and keys users store for themselves ("bring your own key"). Only
  // AES-256-GCM envelopes are kept, bound to `<name>` and `<user_id>/<name>`,
  // plus the shown prefix (at most 4 characters, only for values of 16 or
  // more characters); never the value.
  await db.schema
    .createTable("vault_secrets")
    .addColumn("name", "varchar(64)", (c) => c.primaryKey())
    .addColumn("secret_envelope", "text", (c) => c.notNull())
    .addColumn("prefix", "varchar(4)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("updated_by", "varchar(36)")
    .execute();
  await db.schema
    .createTable("user_vault_secrets")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "varchar(64)", (c) => c.notNull())
    .addColumn("secret_envelope", "text", (c) => c.notNull())
    .addColumn("prefix", "varchar(4)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("user_vault_secrets_user_name_unique", ["user_id", "name"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("user_vault_secrets").execute();
  await db.schema.dropTable("vault_secrets").execute();
}
