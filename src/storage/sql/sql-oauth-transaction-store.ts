import type { Kysely, Selectable } from "kysely";
import type { OAuthIntent, OAuthTransaction, OAuthTransactionStore } from "../../core/oauth/oauth-transaction-store.js";
import type { Database, OauthTransactionsTable } from "./database.js";

function rowToTransaction(row: Selectable<OauthTransactionsTable>): OAuthTransaction {
  return {
    id: row.id,
    stateHash: row.state_hash,
    bindingHash: row.binding_hash,
    provider: row.provider,
    intent: row.intent as OAuthIntent,
    nonce: row.nonce,
    codeVerifier: row.code_verifier,
    returnTo: row.return_to,
    userId: row.user_id,
    sessionHash: row.session_hash,
    invitationHash: row.invitation_hash,
    remember: Number(row.remember) === 1,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The {@link OAuthTransactionStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlOAuthTransactionStore(db: Kysely<Database>): OAuthTransactionStore {
  return {
    async insert(t) {
      await db
        .insertInto("oauth_transactions")
        .values({
          id: t.id,
          state_hash: t.stateHash,
          binding_hash: t.bindingHash,
          provider: t.provider,
          intent: t.intent,
          nonce: t.nonce,
          code_verifier: t.codeVerifier,
          return_to: t.returnTo,
          user_id: t.userId,
          session_hash: t.sessionHash,
          invitation_hash: t.invitationHash,
          remember: t.remember ? 1 : 0,
          created_at: t.createdAt,
          expires_at: t.expiresAt,
        })
        .execute();
    },
    async consume(stateHash, now) {
      // One DELETE … RETURNING (SQLite 3.35+ and PostgreSQL alike): a round
      // trip ends once; a replayed state, or the loser of a race, finds nothing.
      const row = await db
        .deleteFrom("oauth_transactions")
        .where("state_hash", "=", stateHash)
        .where("expires_at", ">", now)
        .returningAll()
        .executeTakeFirst();
      return row ? rowToTransaction(row) : null;
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom("oauth_transactions").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
