import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // The keys that sign the identity JWT handed to protected apps (IDENTITY_JWT,
  // docs/identity-jwt.md). The private JWK is a secret-box envelope (sealed for
  // `signing_keys|private_jwk|<kid>`); the public JWK is published at
  // /.well-known/jwks.json while the key is active or retired within its grace
  // period. Never backed up: a restored deployment makes a new key.
  await db.schema
    .createTable("signing_keys")
    .addColumn("kid", "varchar(64)", (c) => c.primaryKey())
    .addColumn("alg", "varchar(16)", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("private_jwk", "text", (c) => c.notNull())
    .addColumn("state", "varchar(16)", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("retired_at", "bigint")
    .execute();
  await db.schema.createIndex("signing_keys_state_idx").on("signing_keys").column("state").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("signing_keys").execute();
}
