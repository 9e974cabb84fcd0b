import type { Kysely } from "kysely";
import type { RecoveryCodeRow, RecoveryCodeStore } from "../../core/mfa/recovery-codes/recovery-code-store.js";
import type { Database, RecoveryCodesTable } from "./database.js";
import { writeTransaction } from "./write-transaction.js";

function toRow(row: RecoveryCodesTable): RecoveryCodeRow {
  return {
    id: row.id,
    userId: row.user_id,
    lookup: row.lookup,
    codeHash: row.code_hash,
    createdAt: Number(row.created_at),
    usedAt: row.used_at === null ? null : Number(row.used_at),
  };
}

/** The {@link RecoveryCodeStore} over Kysely (SQLite and PostgreSQL). */
export function createSqlRecoveryCodeStore(db: Kysely<Database>): RecoveryCodeStore {
  return {
    async replaceAll(userId, rows) {
      await writeTransaction(db, async (trx) => {
        await trx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
        if (rows.length === 0) return;
        await trx
          .insertInto("recovery_codes")
          .values(rows.map((r) => ({ id: r.id, user_id: userId, lookup: r.lookup, code_hash: r.codeHash, created_at: r.createdAt, used_at: r.usedAt })))
          .execute();
      });
    },

    async findUnused(userId, lookup) {
      const row = await db
        .selectFrom("recovery_codes")
        .selectAll()
        .where("user_id", "=", userId)
        .where("lookup", "=", lookup)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return row ? toRow(row) : null;
    },

    async markUsed(id, now) {
      // One statement: the row lock (PostgreSQL) or the write lock (SQLite) lets exactly one concurrent caller update it.
      const result = await db.updateTable("recovery_codes").set({ used_at: now }).where("id", "=", id).where("used_at", "is", null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async countUnused(userId) {
      const row = await db
        .selectFrom("recovery_codes")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("user_id", "=", userId)
        .where("used_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async removeAll(userId) {
      const result = await db.deleteFrom("recovery_codes").where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
