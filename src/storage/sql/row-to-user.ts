import type { Selectable } from "kysely";
import { ROLES, type Role, type User } from "../../core/users/user.js";
import type { UsersTable } from "./database.js";

/** Maps a users row to the core type. */
export function rowToUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    emailVerified: row.email_verified === 1,
    passwordHash: row.password_hash,
    role: (ROLES as readonly string[]).includes(row.role) ? (row.role as Role) : "user",
    blocked: row.blocked === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

/**
 * The `users` columns under a `u_` prefix, for stores that read a row
 * together with its user in one join (a session, an API token): they
 * `selectAll` their own table and add these, so no column list is repeated.
 */
export const JOINED_USER_COLUMNS = [
  "users.id as u_id",
  "users.username as u_username",
  "users.username_normalized as u_username_normalized",
  "users.email as u_email",
  "users.email_normalized as u_email_normalized",
  "users.email_verified as u_email_verified",
  "users.password_hash as u_password_hash",
  "users.role as u_role",
  "users.blocked as u_blocked",
  "users.created_at as u_created_at",
  "users.updated_at as u_updated_at",
  "users.last_login_at as u_last_login_at",
] as const;

/** A joined row's user columns, as {@link JOINED_USER_COLUMNS} names them. */
export type JoinedUserRow = { [K in keyof Selectable<UsersTable> as `u_${K & string}`]: Selectable<UsersTable>[K] };

/** Maps the `u_` columns of a joined row to the core user (field by field: it runs on every uncached session check). */
export function joinedRowToUser(row: JoinedUserRow): User {
  return {
    id: row.u_id,
    username: row.u_username,
    email: row.u_email,
    emailVerified: row.u_email_verified === 1,
    passwordHash: row.u_password_hash,
    role: (ROLES as readonly string[]).includes(row.u_role) ? (row.u_role as Role) : "user",
    blocked: row.u_blocked === 1,
    createdAt: row.u_created_at,
    updatedAt: row.u_updated_at,
    lastLoginAt: row.u_last_login_at,
  };
}

/**
 * Maps joined rows to users, handing back the very same (immutable) `User`
 * object while a user's row is unchanged: every field is compared with the
 * row just read, so nothing is answered from memory. An uncached session
 * check then reuses what was derived from that object (its public
 * projection, `toPublicUser`) instead of rebuilding it per request. Holds at
 * most `max` users (the oldest is dropped).
 */
export function createJoinedUserReader(max = 1_000): (row: JoinedUserRow) => User {
  const known = new Map<string, User>();
  return (row) => {
    const previous = known.get(row.u_id);
    if (previous !== undefined && sameUser(previous, row)) return previous;
    const user = joinedRowToUser(row);
    if (previous === undefined && known.size >= max) known.delete(known.keys().next().value!);
    known.set(user.id, user);
    return user;
  };
}

function sameUser(user: User, row: JoinedUserRow): boolean {
  return (
    user.updatedAt === row.u_updated_at &&
    user.role === row.u_role &&
    user.blocked === (row.u_blocked === 1) &&
    user.passwordHash === row.u_password_hash &&
    user.username === row.u_username &&
    user.email === row.u_email &&
    user.emailVerified === (row.u_email_verified === 1) &&
    user.createdAt === row.u_created_at &&
    user.lastLoginAt === row.u_last_login_at
  );
}
