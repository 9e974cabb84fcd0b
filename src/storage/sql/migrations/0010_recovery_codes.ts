import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Recovery codes (a backup second factor): each code is a short public
  // lookup part and a secret part; only the Argon2id hash of the secret part
  // is stored, never the code. A used code keeps its row (used_at set) until
  // the user makes new codes, which deletes every old row.
  await db.schema
    .createTable("recovery_codes")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("lookup", "varchar(16)", (c) => c.notNull())
    .addColumn("code_hash", "varchar(255)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    // The lookup is unique per user (a code is always checked for a known user).
    .addUniqueConstraint("recovery_codes_user_lookup_unique", ["user_id", "lookup"])
    .execute();
  await db.schema.createIndex("recovery_codes_user_idx").on("recovery_codes").column("user_id").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("recovery_codes").execute();
}
