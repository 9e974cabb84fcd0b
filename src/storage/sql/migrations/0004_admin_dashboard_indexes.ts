import { PostgresAdapter, sql, type Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

// Indexes of the admin dashboard at 100,000 users: the blocked filter, and
// the prefix search of the user list. SQLite compares the normalized columns
// byte-wise (BINARY), so their unique indexes already serve a range scan; on
// PostgreSQL the default collation may be a locale, so the search compares
// under "C" and gets its own "C" indexes.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("users_blocked_idx").on("users").columns(["blocked", "created_at", "id"]).execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`create index users_username_c_idx on users (username_normalized collate "C")`.execute(db);
    await sql`create index users_email_c_idx on users (email_normalized collate "C")`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await db.schema.dropIndex("users_email_c_idx").execute();
    await db.schema.dropIndex("users_username_c_idx").execute();
  }
  await db.schema.dropIndex("users_blocked_idx").execute();
}
