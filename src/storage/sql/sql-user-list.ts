import { PostgresAdapter, sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from "kysely";
import type { User } from "../../core/users/user.js";
import { prefixUpperBound, type UserListFilter, type UserListQuery } from "../../core/users/user-list.js";
import type { Database } from "./database.js";
import { rowToUser } from "./row-to-user.js";

type UsersEb = ExpressionBuilder<Database, "users">;

/** True when `db` talks to PostgreSQL (its prefix indexes use the "C" collation, migration 0004). */
function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * A prefix match on a normalized column as an index range scan:
 * `col >= prefix AND col < upperBound(prefix)`, compared byte-wise
 * (SQLite's default BINARY collation; `COLLATE "C"` on PostgreSQL, where
 * migration 0004 builds matching indexes). Exact for any prefix, unlike
 * `LIKE 'x%'`, which SQLite cannot serve from a BINARY index.
 */
function prefixMatch(eb: UsersEb, column: "username_normalized" | "email_normalized", prefix: string, dialect: Dialect): Expression<SqlBool> {
  // On SQLite, `+col` keeps the planner off the column's index (for a broad prefix, walking the
  // created_at index and filtering is far cheaper than sorting every match).
  const col =
    dialect === "postgres" ? sql<string>`${sql.ref(column)} collate "C"` : dialect === "sqlite-scan" ? sql<string>`+${sql.ref(column)}` : sql<string>`${sql.ref(column)}`;
  const upper = prefixUpperBound(prefix);
  const lower = eb(col, ">=", prefix);
  return upper === null ? lower : eb.and([lower, eb(col, "<", upper)]);
}

type Dialect = "postgres" | "sqlite" | "sqlite-scan";

function filtered(db: Kysely<Database>, filter: UserListFilter, scan = false) {
  const dialect: Dialect = isPostgres(db) ? "postgres" : scan ? "sqlite-scan" : "sqlite";
  let query = db.selectFrom("users");
  const q = searchText(filter);
  if (q !== "") query = query.where((eb) => eb.or([prefixMatch(eb, "username_normalized", q, dialect), prefixMatch(eb, "email_normalized", q, dialect)]));
  if (filter.role !== undefined) query = query.where("role", "=", filter.role);
  if (filter.blocked !== undefined) query = query.where("blocked", "=", filter.blocked ? 1 : 0);
  return query;
}

const searchText = (filter: UserListFilter) => filter.q?.trim().toLowerCase() ?? "";

/** Above this many matches a prefix is "broad": SQLite then walks the created_at index instead of sorting every match. */
const BROAD_MATCHES = 2000;

/** True when a prefix search matches more than {@link BROAD_MATCHES} users (a capped, index-only count). */
async function isBroad(db: Kysely<Database>, filter: UserListFilter): Promise<boolean> {
  return (await countUsers(db, filter, BROAD_MATCHES + 1)) > BROAD_MATCHES;
}

/**
 * The admin user list over Kysely: keyset pagination on `(created_at, id)`,
 * newest first. Each page is an index range scan whatever its depth (the
 * redundant `created_at <=` bound makes the keyset condition sargable).
 */
export async function listUsers(db: Kysely<Database>, query: UserListQuery): Promise<User[]> {
  const scan = !isPostgres(db) && searchText(query) !== "" && (await isBroad(db, query));
  let q = filtered(db, query, scan);
  const { after, before } = query;
  if (after !== undefined) {
    q = q
      .where("created_at", "<=", after.createdAt)
      .where((eb) => eb.or([eb("created_at", "<", after.createdAt), eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)])]));
  } else if (before !== undefined) {
    q = q
      .where("created_at", ">=", before.createdAt)
      .where((eb) => eb.or([eb("created_at", ">", before.createdAt), eb.and([eb("created_at", "=", before.createdAt), eb("id", ">", before.id)])]));
  }
  const direction = after === undefined && before !== undefined ? "asc" : "desc";
  const rows = await q.selectAll().orderBy("created_at", direction).orderBy("id", direction).limit(query.limit).execute();
  const users = rows.map(rowToUser);
  return direction === "asc" ? users.reverse() : users;
}

/** How many users match the list filters; with `cap`, counting stops there (at most `cap`). */
export async function countUsers(db: Kysely<Database>, filter: UserListFilter, cap?: number): Promise<number> {
  if (cap === undefined) {
    const row = await filtered(db, filter)
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }
  const row = await db
    .selectFrom(filtered(db, filter).select(sql<number>`1`.as("one")).limit(cap).as("m"))
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
