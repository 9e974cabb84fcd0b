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

/** Maps the `u_` columns of a joined row to the core user. */
export function joinedRowToUser(row: JoinedUserRow): User {
  const user: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (key.startsWith("u_")) user[key.slice(2)] = value;
  return rowToUser(user as Selectable<UsersTable>);
}
