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
        .returning(["user_id", "created_at", "expires_at"])
        .executeTakeFirst();
      return result ? { userId: result.user_id, createdAt: Number(result.created_at), expiresAt: Number(result.expires_at) } : null;
    },
    async deletePurpose(purpose) {
      await db.deleteFrom("one_time_tokens").where("purpose", "=", purpose).execute();
    },
  };
}
