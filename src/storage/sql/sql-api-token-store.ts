import type { Kysely, Selectable } from "kysely";
import { isTokenScope, type ApiToken, type TokenScope } from "../../core/tokens/api-token.js";
import type { ApiTokenStore } from "../../core/tokens/api-token-store.js";
import type { ApiTokensTable, Database } from "./database.js";
import { JOINED_USER_COLUMNS, joinedRowToUser } from "./row-to-user.js";

/** Reads the stored JSON list of scopes; anything unknown or malformed grants nothing. */
function parseScopes(text: string): TokenScope[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter(isTokenScope) : [];
  } catch {
    return [];
  }
}

function rowToToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    tokenHash: row.token_hash,
    prefix: row.prefix,
    scopes: parseScopes(row.scopes),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** The {@link ApiTokenStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlApiTokenStore(db: Kysely<Database>): ApiTokenStore {
  return {
    async insert(t) {
      await db
        .insertInto("api_tokens")
        .values({
          id: t.id,
          user_id: t.userId,
          name: t.name,
          token_hash: t.tokenHash,
          prefix: t.prefix,
          scopes: JSON.stringify(t.scopes),
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          last_used_at: t.lastUsedAt,
        })
        .execute();
    },
    async findByHash(tokenHash) {
      const row = await db
        .selectFrom("api_tokens")
        .innerJoin("users", "users.id", "api_tokens.user_id")
        .selectAll("api_tokens")
        .select(JOINED_USER_COLUMNS)
        .where("api_tokens.token_hash", "=", tokenHash)
        .executeTakeFirst();
      return row ? { user: joinedRowToUser(row), token: rowToToken(row) } : null;
    },
    async findForUser(userId, id) {
      const row = await db.selectFrom("api_tokens").selectAll().where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
      return row ? rowToToken(row) : null;
    },
    async listForUser(userId, limit, offset) {
      const rows = await db
        .selectFrom("api_tokens")
        .selectAll()
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .offset(offset)
        .execute();
      return rows.map(rowToToken);
    },
    async countForUser(userId) {
      const row = await db
        .selectFrom("api_tokens")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async delete(id, userId) {
      const result = await db.deleteFrom("api_tokens").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async touchLastUsed(id, at) {
      await db.updateTable("api_tokens").set({ last_used_at: at }).where("id", "=", id).execute();
    },
    async deleteAllForUser(userId) {
      const result = await db.deleteFrom("api_tokens").where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
