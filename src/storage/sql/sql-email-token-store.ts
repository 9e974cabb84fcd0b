import type { Kysely } from "kysely";
import type { EmailTokenPurpose, EmailTokenRecord, EmailTokenStore } from "../../core/mail/email-token-store.js";
import type { Database, EmailTokensTable } from "./database.js";
import { uniqueViolation } from "./dialects/unique-violation.js";
import { insertOutboxMails } from "./sql-outbox-store.js";

function toRecord(row: EmailTokensTable): EmailTokenRecord {
  return {
    tokenHash: row.token_hash,
    purpose: row.purpose as EmailTokenPurpose,
    userId: row.user_id,
    email: row.email,
    emailNormalized: row.email_normalized,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The {@link EmailTokenStore} over Kysely: a token and its mails are written in one transaction. */
export function createSqlEmailTokenStore(db: Kysely<Database>): EmailTokenStore {
  return {
    async issue(token, mails) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom("email_tokens").where("user_id", "=", token.userId).where("purpose", "=", token.purpose).execute();
        await trx
          .insertInto("email_tokens")
          .values({
            token_hash: token.tokenHash,
            purpose: token.purpose,
            user_id: token.userId,
            email: token.email,
            email_normalized: token.emailNormalized,
            created_at: token.createdAt,
            expires_at: token.expiresAt,
          })
          .execute();
        await insertOutboxMails(trx, mails);
      });
    },

    async peek(tokenHash, purposes, now) {
      const row = await db
        .selectFrom("email_tokens")
        .selectAll()
        .where("token_hash", "=", tokenHash)
        .where("purpose", "in", [...purposes])
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async consume(tokenHash, purposes, now) {
      // DELETE … RETURNING is atomic on both dialects: of two concurrent uses, one gets the row.
      const row = await db
        .deleteFrom("email_tokens")
        .where("token_hash", "=", tokenHash)
        .where("purpose", "in", [...purposes])
        .where("expires_at", ">", now)
        .returningAll()
        .executeTakeFirst();
      return row ? toRecord(row) : null;
    },

    async deleteForUser(userId, purposes) {
      let q = db.deleteFrom("email_tokens").where("user_id", "=", userId);
      if (purposes) q = q.where("purpose", "in", [...purposes]);
      await q.execute();
    },

    async markVerified(userId, emailNormalized, now) {
      const result = await db
        .updateTable("users")
        .set({ email_verified: 1, updated_at: now })
        .where("id", "=", userId)
        .where("email_normalized", "=", emailNormalized)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async changeEmail(userId, email, emailNormalized, now) {
      try {
        const result = await db
          .updateTable("users")
          .set({ email, email_normalized: emailNormalized, email_verified: 1, updated_at: now })
          .where("id", "=", userId)
          .executeTakeFirst();
        return Number(result.numUpdatedRows) === 1 ? "ok" : "no_user";
      } catch (err) {
        if (uniqueViolation(err) !== null) return "email_taken";
        throw err;
      }
    },
  };
}
