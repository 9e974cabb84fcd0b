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

/** The `user` object of API.md: what clients may see of a user. */
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

/** Projects a stored user onto the public shape (field-level output filtering, AZ-05). */
export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    emailVerified: user.emailVerified,
    role: user.role,
    blocked: user.blocked,
    createdAt: new Date(user.createdAt).toISOString(),
    lastLoginAt: user.lastLoginAt === null ? null : new Date(user.lastLoginAt).toISOString(),
    mfa: { totp: false, passkeys: 0 },
  };
}
