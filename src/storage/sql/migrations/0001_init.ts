import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("username", "varchar(64)", (c) => c.notNull())
    .addColumn("username_normalized", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("email", "varchar(255)")
    .addColumn("email_normalized", "varchar(255)", (c) => c.unique())
    .addColumn("email_verified", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("password_hash", "varchar(512)")
    .addColumn("role", "varchar(16)", (c) => c.notNull().defaultTo("user"))
    .addColumn("blocked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("last_login_at", "bigint")
    .execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_seen_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("remember", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("ip", "varchar(64)", (c) => c.notNull())
    .addColumn("user_agent", "varchar(512)", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("sessions_user_id_idx").on("sessions").columns(["user_id", "created_at"]).execute();
  await db.schema.createIndex("sessions_expires_at_idx").on("sessions").column("expires_at").execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("type", "varchar(32)", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("user_id", "varchar(36)")
    .addColumn("actor_id", "varchar(36)")
    .addColumn("ip", "varchar(64)", (c) => c.notNull())
    .addColumn("user_agent", "varchar(512)", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_events_at_idx").on("audit_events").column("at").execute();
  await db.schema.createIndex("audit_events_user_idx").on("audit_events").columns(["user_id", "at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("audit_events").execute();
  await db.schema.dropTable("sessions").execute();
  await db.schema.dropTable("users").execute();
}
