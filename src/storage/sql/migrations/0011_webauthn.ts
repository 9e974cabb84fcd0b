import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Passkeys (WebAuthn credentials): the public key and the authenticator's
  // sign counter, never a secret. The credential id is base64url, unique
  // across users (an authenticator never reuses one).
  await db.schema
    .createTable("webauthn_credentials")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("credential_id", "varchar(1400)", (c) => c.notNull().unique())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("counter", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("transports", "varchar(256)", (c) => c.notNull().defaultTo(""))
    .addColumn("device_type", "varchar(16)", (c) => c.notNull())
    .addColumn("backed_up", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("name", "varchar(100)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();
  await db.schema.createIndex("webauthn_credentials_user_idx").on("webauthn_credentials").column("user_id").execute();

  // Ceremony challenges: single use (consumed by one DELETE … RETURNING),
  // at most 5 minutes, bound to what asked for them (the SHA-256 of the
  // session, the pending sign-in or the anonymous challenge cookie). The
  // challenge is not a secret; only its SHA-256 is kept, as the lookup key.
  await db.schema
    .createTable("webauthn_challenges")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("challenge_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("purpose", "varchar(16)", (c) => c.notNull())
    .addColumn("user_id", "varchar(36)", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("binding_hash", "varchar(64)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webauthn_challenges_expires_idx").on("webauthn_challenges").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("webauthn_challenges").execute();
  await db.schema.dropTable("webauthn_credentials").execute();
}
