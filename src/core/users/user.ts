/** The roles of Gatehouse, lowest first. */
export const ROLES = ["user", "admin", "superadmin"] as const;
/** A user's role. */
export type Role = (typeof ROLES)[number];

/** A user as stored; the password hash never leaves the server. */
export interface User {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  passwordHash: string | null;
  role: Role;
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
}

/** The `user` object of docs/api.md: what clients may see of a user. */
export interface PublicUser {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  role: Role;
  blocked: boolean;
  createdAt: string;
  lastLoginAt: string | null;
  mfa: { totp: boolean; passkeys: number };
}

// Users are immutable values (a change is a new object from the store), so each one's projection is
// made once: a cached session answers `/me` without re-formatting its dates (docs/performance.md).
const projections = new WeakMap<User, PublicUser>();

/**
 * Projects a stored user onto the public shape (field-level output filtering,
 * AZ-05). The result is frozen and shared between calls for the same user
 * object: copy it before changing anything.
 */
export function toPublicUser(user: User): PublicUser {
  let projected = projections.get(user);
  if (projected === undefined) {
    projected = Object.freeze({
      id: user.id,
      username: user.username,
      email: user.email,
      emailVerified: user.emailVerified,
      role: user.role,
      blocked: user.blocked,
      createdAt: new Date(user.createdAt).toISOString(),
      lastLoginAt: user.lastLoginAt === null ? null : new Date(user.lastLoginAt).toISOString(),
      mfa: Object.freeze({ totp: false, passkeys: 0 }),
    });
    projections.set(user, projected);
  }
  return projected;
}
