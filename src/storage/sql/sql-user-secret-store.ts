import type { Kysely } from "kysely";
import type { UserSecretRow, UserSecretStore } from "../../core/secrets/user-secret-store.js";
import type { Database, UserSecretsTable } from "./database.js";

function toRow(row: UserSecretsTable): UserSecretRow {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    envelope: row.secret_envelope,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The {@link UserSecretStore} over Kysely: one row per (user, kind), envelopes only. */
export function createSqlUserSecretStore(db: Kysely<Database>): UserSecretStore {
  return {
    async put(row) {
      // INSERT … ON CONFLICT (user_id, kind) DO UPDATE: atomic on both dialects; the first row's id and created_at stay.
      const stored = await db
        .insertInto("user_secrets")
        .values({ id: row.id, user_id: row.userId, kind: row.kind, secret_envelope: row.envelope, created_at: row.createdAt, updated_at: row.updatedAt })
        .onConflict((oc) => oc.columns(["user_id", "kind"]).doUpdateSet({ secret_envelope: row.envelope, updated_at: row.updatedAt }))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRow(stored);
    },

    async find(userId, kind) {
      const row = await db.selectFrom("user_secrets").selectAll().where("user_id", "=", userId).where("kind", "=", kind).executeTakeFirst();
      return row ? toRow(row) : null;
    },

    async replaceEnvelope(userId, kind, expected, next, now) {
      const result = await db
        .updateTable("user_secrets")
        .set({ secret_envelope: next, updated_at: now })
        .where("user_id", "=", userId)
        .where("kind", "=", kind)
        .where("secret_envelope", "=", expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async remove(userId, kind) {
      const result = await db.deleteFrom("user_secrets").where("user_id", "=", userId).where("kind", "=", kind).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
