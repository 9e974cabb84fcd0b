import { CompiledQuery, type Kysely, type Selectable } from "kysely";
import { formatAmr, parseAmr } from "../../core/sessions/assurance.js";
import type { Session } from "../../core/sessions/session.js";
import type { SessionStore } from "../../core/sessions/session-store.js";
import type { User } from "../../core/users/user.js";
import type { Database, SessionsTable } from "./database.js";
import { sqliteConnectionOf } from "./dialects/sqlite.js";
import { createJoinedUserReader, JOINED_USER_COLUMNS, type JoinedUserRow } from "./row-to-user.js";

type SessionWithUserRow = Selectable<SessionsTable> & JoinedUserRow;

function rowToSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    remember: row.remember === 1,
    ip: row.ip,
    userAgent: row.user_agent,
    reauthAt: row.reauth_at,
    aal: row.aal === "aal2" ? "aal2" : "aal1",
    amr: parseAmr(row.amr),
  };
}

/**
 * The {@link SessionStore} over Kysely.
 *
 * The two queries of the per-request session check (the lookup joined with
 * the user, the last-seen write) are built and compiled by Kysely once, here,
 * and then run with fresh parameters: building and compiling them cost more
 * than running them (docs/performance.md). On SQLite the lookup also has a
 * synchronous path, {@link SessionStore.findWithUserNow}: one prepared
 * better-sqlite3 statement, no promise.
 */
export function createSqlSessionStore(db: Kysely<Database>): SessionStore {
  // Compiled with a stand-in value; only the SQL text is kept, the parameter is bound per call.
  const findSql = db
    .selectFrom("sessions")
    .innerJoin("users", "users.id", "sessions.user_id")
    .selectAll("sessions")
    .select(JOINED_USER_COLUMNS)
    .where("sessions.token_hash", "=", "")
    .compile().sql;
  const touchSql = db.updateTable("sessions").set({ last_seen_at: 0 }).where("id", "=", "").compile().sql;
  const sqlite = sqliteConnectionOf(db);
  // Prepared on first use (the store may be created before the migrations ran).
  let findStatement: ReturnType<NonNullable<typeof sqlite>["prepare"]> | null = null;
  const userOf = createJoinedUserReader();
  const found = (row: SessionWithUserRow): { session: Session; user: User } => ({ user: userOf(row), session: rowToSession(row) });

  return {
    async insert(s) {
      await db
        .insertInto("sessions")
        .values({
          id: s.id,
          token_hash: s.tokenHash,
          user_id: s.userId,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          expires_at: s.expiresAt,
          remember: s.remember ? 1 : 0,
          ip: s.ip,
          user_agent: s.userAgent,
          reauth_at: s.reauthAt,
          aal: s.aal,
          amr: formatAmr(s.amr),
        })
        .execute();
    },
    async findWithUser(tokenHash) {
      const { rows } = await db.executeQuery<SessionWithUserRow>(CompiledQuery.raw(findSql, [tokenHash]));
      const row = rows[0];
      return row ? found(row) : null;
    },
    ...(sqlite && {
      findWithUserNow(tokenHash: string) {
        // Inside a transaction Kysely holds this one connection: a read now could see its uncommitted writes.
        if (!sqlite.open || sqlite.inTransaction) return undefined;
        findStatement ??= sqlite.prepare(findSql);
        if (findStatement.busy) return undefined;
        const row = findStatement.get(tokenHash) as SessionWithUserRow | undefined;
        return row ? found(row) : null;
      },
    }),
    async touch(id, lastSeenAt) {
      await db.executeQuery(CompiledQuery.raw(touchSql, [lastSeenAt, id]));
    },
    async delete(id, userId) {
      let query = db.deleteFrom("sessions").where("id", "=", id);
      if (userId !== undefined) query = query.where("user_id", "=", userId);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async deleteAllForUser(userId, exceptId) {
      return db.transaction().execute(async (trx) => {
        let select = trx.selectFrom("sessions").select("id").where("user_id", "=", userId);
        if (exceptId !== undefined) select = select.where("id", "!=", exceptId);
        const ids = (await select.execute()).map((r) => r.id);
        if (ids.length > 0) await trx.deleteFrom("sessions").where("id", "in", ids).execute();
        return ids;
      });
    },
    async listForUser(userId, limit, offset) {
      const rows = await db
        .selectFrom("sessions")
        .selectAll()
        .where("user_id", "=", userId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(limit)
        .offset(offset)
        .execute();
      return rows.map(rowToSession);
    },
    async countActive(now, idleMs) {
      const row = await db
        .selectFrom("sessions")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("expires_at", ">", now)
        .where((eb) => eb.or([eb("remember", "=", 1), eb("last_seen_at", ">", now - idleMs)]))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async deleteExpired(now, idleMs) {
      const result = await db
        .deleteFrom("sessions")
        .where((eb) =>
          eb.or([
            eb("expires_at", "<=", now),
            eb.and([eb("remember", "=", 0), eb("last_seen_at", "<=", now - idleMs)]),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
