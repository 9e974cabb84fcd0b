import type { Role, User } from "./user.js";
import type { UserListFilter, UserListQuery } from "./user-list.js";

/** What a new user row needs; the store adds nothing but what it is given. */
export interface NewUser {
  id: string;
  username: string;
  usernameNormalized: string;
  email: string | null;
  emailNormalized: string | null;
  /** Null for an account an admin created, until its owner sets a password with the mailed link. */
  passwordHash: string | null;
  role: Role;
  createdAt: number;
  /** True when the address is known to reach the owner (an invitation was mailed to it); false by default. */
  emailVerified?: boolean;
}

/** Why an insert was refused. */
export type UserInsertConflict = "username_taken" | "email_taken";

/** Filters of the admin user search. */
export interface UserSearch {
  /** Prefix of the normalized username or email (LIKE wildcards are escaped). */
  q?: string;
  role?: Role;
  blocked?: boolean;
  limit: number;
  offset: number;
}

/**
 * A change that can take an active superadmin away: a role change, a block
 * (or unblock), or the deletion of the account.
 */
export type GuardedUserChange = { kind: "update"; role?: Role; blocked?: boolean } | { kind: "delete" };

/** What {@link UserStore.changeGuardingLastSuperadmin} did: applied it, found no such user, or refused it. */
export type GuardedChangeResult = "done" | "not_found" | "last_superadmin";

/** Persistence port for users, shaped by what the services need. */
export interface UserStore {
  /** Inserts a user; answers the conflict instead of throwing when the username or email is taken. */
  insert(user: NewUser): Promise<{ ok: true } | { ok: false; conflict: UserInsertConflict }>;
  findById(id: string): Promise<User | null>;
  /** Looks up by normalized username or normalized email. */
  findByLogin(normalized: { username?: string; email?: string }): Promise<User | null>;
  updatePasswordHash(id: string, passwordHash: string, at: number): Promise<void>;
  /**
   * Compare-and-swap of the password hash: stores `next` only if the row
   * still holds `expected` (one atomic UPDATE). True when it did; false when
   * another request changed it first (or there is no such user).
   */
  replacePasswordHash(id: string, expected: string, next: string, at: number): Promise<boolean>;
  recordLogin(id: string, at: number): Promise<void>;
  /** Deletes the user; their sessions go with them. Returns false if there was no such user. */
  delete(id: string): Promise<boolean>;
  /** Sets the role and/or the blocked flag, unconditionally (operator tooling and tests; services use {@link changeGuardingLastSuperadmin}). */
  update(id: string, change: { role?: Role; blocked?: boolean }, at: number): Promise<void>;
  /**
   * Applies `change` to user `id` unless it would leave no active (unblocked)
   * superadmin: the check and the change are one transaction that holds the
   * lock on every active superadmin, so two removals sent at once cannot both
   * pass (AZ-02). A change that removes no active superadmin is applied as is.
   * Answers `last_superadmin` (nothing changed) when `id` is the only one left.
   */
  changeGuardingLastSuperadmin(id: string, change: GuardedUserChange, at: number): Promise<GuardedChangeResult>;
  /** Newest first, with the total matching count. */
  search(search: UserSearch): Promise<{ users: User[]; total: number }>;
  /** How many users hold `role` (or all users), blocked ones included. */
  count(role?: Role): Promise<number>;
  /** The admin dashboard's keyset-paginated list (newest first); see {@link UserListQuery}. */
  list(query: UserListQuery): Promise<User[]>;
  /** How many users match the list filters; with `cap`, counting stops at `cap` (the answer is then at most `cap`). */
  countMatching(filter: UserListFilter, cap?: number): Promise<number>;
}
