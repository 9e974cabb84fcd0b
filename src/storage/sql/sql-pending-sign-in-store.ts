import type { Kysely, Selectable } from "kysely";
import { formatAmr, parseAmr } from "../../core/sessions/assurance.js";
import type { PendingSignInRecord, PendingSignInStore } from "../../core/sign-in/pending-sign-in-store.js";
import type { Database, PendingSignInsTable } from "./database.js";

function rowToPending(row: Selectable<PendingSignInsTable>): PendingSignInRecord {
  return {
    tokenHash: row.token_hash,
    userId: row.user_id,
    amr: parseAmr(row.amr),
    remember: Number(row.remember) === 1,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    failedAttempts: Number(row.failed_attempts),
  };
}

/** The {@link PendingSignInStore} over Kysely. */
export function createSqlPendingSignInStore(db: Kysely<Database>): PendingSignInStore {
  return {
    async insert(p) {
      await db
        .insertInto("pending_sign_ins")
        .values({
          token_hash: p.tokenHash,
          user_id: p.userId,
          amr: formatAmr(p.amr),
          remember: p.remember ? 1 : 0,
          ip: p.ip,
          user_agent: p.userAgent,
          created_at: p.createdAt,
          expires_at: p.expiresAt,
          failed_attempts: p.failedAttempts,
        })
        .execute();
    },
    async find(tokenHash, now) {
      const row = await db.selectFrom("pending_sign_ins").selectAll().where("token_hash", "=", tokenHash).where("expires_at", ">", now).executeTakeFirst();
      return row ? rowToPending(row) : null;
    },
    async consume(tokenHash, now) {
      // One DELETE … RETURNING: the row goes to whichever statement deletes it, never to two.
      const row = await db.deleteFrom("pending_sign_ins").where("token_hash", "=", tokenHash).where("expires_at", ">", now).returningAll().executeTakeFirst();
      return row ? rowToPending(row) : null;
    },
    async recordFailure(tokenHash, maxFailures) {
      await db
        .updateTable("pending_sign_ins")
        .set((eb) => ({ failed_attempts: eb("failed_attempts", "+", 1) }))
        .where("token_hash", "=", tokenHash)
        .execute();
      await db.deleteFrom("pending_sign_ins").where("token_hash", "=", tokenHash).where("failed_attempts", ">=", maxFailures).execute();
    },
    async delete(tokenHash) {
      await db.deleteFrom("pending_sign_ins").where("token_hash", "=", tokenHash).execute();
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom("pending_sign_ins").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
