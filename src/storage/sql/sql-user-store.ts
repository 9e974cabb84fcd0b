import { sql, type Kysely } from "kysely";
import type { UserStore } from "../../core/users/user-store.js";
import type { Database } from "./database.js";
import { uniqueViolation } from "./dialects/unique-violation.js";
import { rowToUser } from "./row-to-user.js";
import { countUsers, listUsers } from "./sql-user-list.js";
import { isPostgres, writeTransaction } from "./write-transaction.js";

/** Escapes LIKE wildcards so `%` and `_` in a search match themselves (INP-01). */
function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The {@link UserStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlUserStore(db: Kysely<Database>): UserStore {
  const postgres = isPostgres(db);
  return {
    async insert(user) {
      try {
        await db
          .insertInto("users")
          .values({
            id: user.id,
            username: user.username,
            username_normalized: user.usernameNormalized,
            email: user.email,
            email_normalized: user.emailNormalized,
            email_verified: user.emailVerified === true ? 1 : 0,
            password_hash: user.passwordHash,
            role: user.role,
            blocked: 0,
            created_at: user.createdAt,
            updated_at: user.createdAt,
            last_login_at: null,
          })
          .execute();
        return { ok: true };
      } catch (err) {
        const violated = uniqueViolation(err);
        if (violated?.includes("email_normalized")) return { ok: false, conflict: "email_taken" };
        if (violated?.includes("username_normalized")) return { ok: false, conflict: "username_taken" };
        throw err;
      }
    },
    async findById(id) {
      const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? rowToUser(row) : null;
    },
    async findByLogin({ username, email }) {
      let query = db.selectFrom("users").selectAll();
      if (email !== undefined) query = query.where("email_normalized", "=", email);
      else if (username !== undefined) query = query.where("username_normalized", "=", username);
      else return null;
      const row = await query.executeTakeFirst();
      return row ? rowToUser(row) : null;
    },
    async updatePasswordHash(id, passwordHash, at) {
      await db.updateTable("users").set({ password_hash: passwordHash, updated_at: at }).where("id", "=", id).execute();
    },
    async replacePasswordHash(id, expected, next, at) {
      const result = await db.updateTable("users").set({ password_hash: next, updated_at: at }).where("id", "=", id).where("password_hash", "=", expected).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async recordLogin(id, at) {
      await db.updateTable("users").set({ last_login_at: at }).where("id", "=", id).execute();
    },
    async delete(id) {
      const result = await db.deleteFrom("users").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async update(id, change, at) {
      const set: { role?: string; blocked?: number; updated_at: number } = { updated_at: at };
      if (change.role !== undefined) set.role = change.role;
      if (change.blocked !== undefined) set.blocked = change.blocked ? 1 : 0;
      await db.updateTable("users").set(set).where("id", "=", id).execute();
    },
    changeGuardingLastSuperadmin(id, change, at) {
      return writeTransaction(db, async (trx) => {
        // Lock every active superadmin, in id order (two guarded changes never deadlock). On PostgreSQL a
        // concurrent guarded change waits here until this one commits, then re-reads the rows it waits on:
        // a superadmin this one demoted, blocked or deleted is no longer in its list.
        const activeQuery = trx.selectFrom("users").select("id").where("role", "=", "superadmin").where("blocked", "=", 0).orderBy("id");
        const active = await (postgres ? activeQuery.forUpdate() : activeQuery).execute();
        const targetQuery = trx.selectFrom("users").select(["role", "blocked"]).where("id", "=", id);
        const row = await (postgres ? targetQuery.forUpdate() : targetQuery).executeTakeFirst();
        if (!row) return "not_found";
        const isActiveSuperadmin = row.role === "superadmin" && row.blocked === 0;
        const staysActiveSuperadmin = change.kind === "update" && (change.role ?? row.role) === "superadmin" && !(change.blocked ?? row.blocked === 1);
        if (isActiveSuperadmin && !staysActiveSuperadmin && !active.some((r) => r.id !== id)) return "last_superadmin";
        if (change.kind === "delete") {
          await trx.deleteFrom("users").where("id", "=", id).execute();
          return "done";
        }
        const set: { role?: string; blocked?: number; updated_at: number } = { updated_at: at };
        if (change.role !== undefined) set.role = change.role;
        if (change.blocked !== undefined) set.blocked = change.blocked ? 1 : 0;
        await trx.updateTable("users").set(set).where("id", "=", id).execute();
        return "done";
      });
    },
    async search({ q, role, blocked, limit, offset }) {
      let query = db.selectFrom("users");
      if (q !== undefined && q !== "") {
        const pattern = `${escapeLike(q.trim().toLowerCase())}%`;
        query = query.where((eb) =>
          eb.or([
            eb("username_normalized", "like", sql<string>`${pattern} escape '\\'`),
            eb("email_normalized", "like", sql<string>`${pattern} escape '\\'`),
          ]),
        );
      }
      if (role !== undefined) query = query.where("role", "=", role);
      if (blocked !== undefined) query = query.where("blocked", "=", blocked ? 1 : 0);
      const [rows, total] = await Promise.all([
        query.selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).offset(offset).execute(),
        query.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst(),
      ]);
      return { users: rows.map(rowToUser), total: Number(total?.n ?? 0) };
    },
    async count(role) {
      let query = db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n"));
      if (role !== undefined) query = query.where("role", "=", role);
      return Number((await query.executeTakeFirst())?.n ?? 0);
    },
    list: (query) => listUsers(db, query),
    countMatching: (filter, cap) => countUsers(db, filter, cap),
  };
}
