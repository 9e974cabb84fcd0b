import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Invitations by email: only the SHA-256 of the single-use token is stored.
  // `used_at` set = used; `revoked_at` set = revoked; both null and
  // `expires_at` in the future = pending.
  await db.schema
    .createTable("invitations")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("email", "varchar(255)", (c) => c.notNull())
    .addColumn("email_normalized", "varchar(255)", (c) => c.notNull())
    .addColumn("role", "varchar(16)", (c) => c.notNull())
    .addColumn("created_by", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .addColumn("used_by", "varchar(36)", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("invitations_created_idx").on("invitations").columns(["created_at", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("invitations").execute();
}
