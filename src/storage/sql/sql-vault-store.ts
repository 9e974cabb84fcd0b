import type { Kysely } from "kysely";
import type { UserVaultSecretRow, VaultSecretRow, VaultStore } from "../../core/vault/vault-store.js";
import type { Database, UserVaultSecretsTable, VaultSecretsTable } from "./database.js";

function toRow(row: VaultSecretsTable): VaultSecretRow {
  return { name: row.name, envelope: row.secret_envelope, prefix: row.prefix, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at), updatedBy: row.updated_by };
}

function toUserRow(row: UserVaultSecretsTable): UserVaultSecretRow {
  return { id: row.id, userId: row.user_id, name: row.name, envelope: row.secret_envelope, prefix: row.prefix, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

/** The {@link VaultStore} over Kysely: envelopes and prefixes only. */
export function createSqlVaultStore(db: Kysely<Database>): VaultStore {
  return {
    async list() {
      return (await db.selectFrom("vault_secrets").selectAll().orderBy("name").execute()).map(toRow);
    },
    async find(name) {
      const row = await db.selectFrom("vault_secrets").selectAll().where("name", "=", name).executeTakeFirst();
      return row ? toRow(row) : null;
    },
    async put(row) {
      // INSERT … ON CONFLICT DO UPDATE (atomic on both dialects); created_at stays. Whether the name was new only labels the audit event.
      const existed = (await db.selectFrom("vault_secrets").select("name").where("name", "=", row.name).executeTakeFirst()) !== undefined;
      await db
        .insertInto("vault_secrets")
        .values({ name: row.name, secret_envelope: row.envelope, prefix: row.prefix, created_at: row.createdAt, updated_at: row.updatedAt, updated_by: row.updatedBy })
        .onConflict((oc) => oc.column("name").doUpdateSet({ secret_envelope: row.envelope, prefix: row.prefix, updated_at: row.updatedAt, updated_by: row.updatedBy }))
        .execute();
      return !existed;
    },
    async remove(name) {
      const result = await db.deleteFrom("vault_secrets").where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async listForUser(userId) {
      return (await db.selectFrom("user_vault_secrets").selectAll().where("user_id", "=", userId).orderBy("name").execute()).map(toUserRow);
    },
    async findForUser(userId, name) {
      const row = await db.selectFrom("user_vault_secrets").selectAll().where("user_id", "=", userId).where("name", "=", name).executeTakeFirst();
      return row ? toUserRow(row) : null;
    },
    async putForUser(row) {
      const stored = await db
        .insertInto("user_vault_secrets")
        .values({ id: row.id, user_id: row.userId, name: row.name, secret_envelope: row.envelope, prefix: row.prefix, created_at: row.createdAt, updated_at: row.updatedAt })
        .onConflict((oc) => oc.columns(["user_id", "name"]).doUpdateSet({ secret_envelope: row.envelope, prefix: row.prefix, updated_at: row.updatedAt }))
        .returning(["id"])
        .executeTakeFirstOrThrow();
      return stored.id === row.id;
    },
    async removeForUser(userId, name) {
      const result = await db.deleteFrom("user_vault_secrets").where("user_id", "=", userId).where("name", "=", name).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
