import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_events").addColumn("request_id", "varchar(64)").execute();
  await db.schema.createIndex("audit_events_type_idx").on("audit_events").columns(["type", "at"]).execute();
  await db.schema.createIndex("audit_events_ip_idx").on("audit_events").columns(["ip", "at"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_events_ip_idx").execute();
  await db.schema.dropIndex("audit_events_type_idx").execute();
  await db.schema.alterTable("audit_events").dropColumn("request_id").execute();
}
