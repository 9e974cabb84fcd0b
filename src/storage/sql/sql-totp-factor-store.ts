import type { Kysely } from "kysely";
import type { TotpFactor, TotpFactorStore } from "../../core/mfa/totp/totp-factor-store.js";
import type { Database, TotpFactorsTable } from "./database.js";

function toFactor(row: TotpFactorsTable): TotpFactor {
  return {
    userId: row.user_id,
    confirmedAt: row.confirmed_at === null ? null : Number(row.confirmed_at),
    lastUsedStep: Number(row.last_used_step),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The {@link TotpFactorStore} over Kysely (the same statements on SQLite and PostgreSQL). */
export function createSqlTotpFactorStore(db: Kysely<Database>): TotpFactorStore {
  return {
    async find(userId) {
      const row = await db.selectFrom("totp_factors").selectAll().where("user_id", "=", userId).executeTakeFirst();
      return row ? toFactor(row) : null;
    },

    async ensure(userId, now) {
      await db
        .insertInto("totp_factors")
        .values({ user_id: userId, confirmed_at: null, last_used_step: 0, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column("user_id").doNothing())
        .execute();
    },

    async useStep(userId, step, now) {
      // One conditional UPDATE: of concurrent uses of a step (any instance), exactly one changes the row.
      const result = await db
        .updateTable("totp_factors")
        .set({ last_used_step: step, updated_at: now })
        .where("user_id", "=", userId)
        .where("last_used_step", "<", step)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async confirm(userId, now) {
      await db
        .updateTable("totp_factors")
        .set((eb) => ({ confirmed_at: eb.fn.coalesce("confirmed_at", eb.val(now)), updated_at: now }))
        .where("user_id", "=", userId)
        .execute();
    },

    async remove(userId) {
      const result = await db.deleteFrom("totp_factors").where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
