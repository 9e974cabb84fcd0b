import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new file instead.

export async function up(db: Kysely<any>): Promise<void> {
  // Provider identities linked to local accounts (Sign in with Google, GitHub,
  // an OIDC provider), keyed on (issuer, subject): the same subject under
  // another issuer is another identity. An account links at most one identity
  // per provider. No token of the provider is ever stored; the email is only
  // what the provider said at the last sign-in, never used to find the account.
  await db.schema
    .createTable("external_identities")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("user_id", "varchar(36)", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("provider", "varchar(32)", (c) => c.notNull())
    .addColumn("issuer", "varchar(512)", (c) => c.notNull())
    .addColumn("subject", "varchar(255)", (c) => c.notNull())
    .addColumn("email", "varchar(320)")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .addUniqueConstraint("external_identities_issuer_subject_key", ["issuer", "subject"])
    .addUniqueConstraint("external_identities_user_provider_key", ["user_id", "provider"])
    .execute();
  await db.schema.createIndex("external_identities_user_idx").on("external_identities").column("user_id").execute();

  // Provider round trips in flight: single use (consumed by one
  // DELETE … RETURNING), at most 10 minutes, bound to the browser that started
  // them. Only SHA-256 hashes of the state, of the browser's binding cookie,
  // of the starting session and of an invitation token are kept; the nonce and
  // the PKCE verifier die with the row. Never backed up.
  await db.schema
    .createTable("oauth_transactions")
    .addColumn("id", "varchar(36)", (c) => c.primaryKey())
    .addColumn("state_hash", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("binding_hash", "varchar(64)", (c) => c.notNull())
    .addColumn("provider", "varchar(32)", (c) => c.notNull())
    .addColumn("intent", "varchar(8)", (c) => c.notNull())
    .addColumn("nonce", "varchar(64)", (c) => c.notNull())
    .addColumn("code_verifier", "varchar(128)", (c) => c.notNull())
    .addColumn("return_to", "varchar(2048)")
    .addColumn("user_id", "varchar(36)", (c) => c.references("users.id").onDelete("cascade"))
    .addColumn("session_hash", "varchar(64)")
    .addColumn("invitation_hash", "varchar(64)")
    .addColumn("remember", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("oauth_transactions_expires_idx").on("oauth_transactions").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("oauth_transactions").execute();
  await db.schema.dropTable("external_identities").execute();
}
