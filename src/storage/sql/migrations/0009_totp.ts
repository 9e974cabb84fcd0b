import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // One authenticator app (TOTP) per user. The secret itself is an envelope in
  // user_secrets (kind `totp`, or `totp_pending` before the first code);
  // this row says whether it is confirmed and holds the last accepted time
  // step, which every successful code must exceed (replay, across instances).
  await db.schema
    .createTable("totp_factors")
    .addColumn("user_id", "varchar(36)", (c) => c.primaryKey().references("users.id").onDelete("cascade"))
    .addColumn("confirmed_at", "bigint")
    .addColumn("last_used_step", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("totp_factors").execute();
}
