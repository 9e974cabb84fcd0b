import type { Kysely } from "kysely";
import type { OneTimeTokenStore } from "../../core/setup/one-time-token-store.js";
import type { Database } from "./database.js";

/** The {@link OneTimeTokenStore} over Kysely. */
export function createSqlOneTimeTokenStore(db: Kysely<Database>): OneTimeTokenStore {
  return {
    async insert(t) {
      await db
        .insertInto("one_time_tokens")
        .values({ token_hash: t.tokenHash, purpose: t.purpose, user_id: t.userId, created_at: t.createdAt, expires_at: t.expiresAt })
        .execute();
    },
    async consume(tokenHash, purpose, now) {
      const result = await db
        .deleteFrom("one_time_tokens")
        .where("token_hash", "=", tokenHash)
        .where("purpose", "=", purpose)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async deletePurpose(purpose) {
      await db.deleteFrom("one_time_tokens").where("purpose", "=", purpose).execute();
    },
  };
}
