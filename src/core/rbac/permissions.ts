import type { Role } from "../users/user.js";

/**
 * Every permission Gatehouse checks, as typed statements (better-auth's
 * access-statement shape). A role holds a fixed set; a higher role holds
 * everything of the lower ones.
 */
export const PERMISSIONS = [
  "account:self",
  "user:list",
  "user:read",
  "user:block",
  "user:delete",
  "user:set-role",
  "user:unlock",
  "user:send-reset-link",
  "user:reset-mfa",
  "session:list-any",
  "session:revoke-any",
  "audit:read",
  "stats:read",
  "ban:manage",
  "settings:read",
  "settings:write",
  "admin:grant",
  "admin:manage",
  "backup:export",
  "backup:import",
] as const;

/** A permission statement. */
export type Permission = (typeof PERMISSIONS)[number];

const USER: readonly Permission[] = ["account:self"];
const ADMIN: readonly Permission[] = [
  ...USER,
  "user:list",
  "user:read",
  "user:block",
  "user:delete",
  "user:set-role",
  "user:unlock",
  "user:send-reset-link",
  "user:reset-mfa",
  "session:list-any",
  "session:revoke-any",
  "audit:read",
  "stats:read",
  "ban:manage",
];
/** `admin:manage`: acting on another admin's or a superadmin's account (see role-change-rules' `canActOn`). */
const SUPERADMIN: readonly Permission[] = [...ADMIN, "settings:read", "settings:write", "admin:grant", "admin:manage", "backup:export", "backup:import"];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  user: new Set(USER),
  admin: new Set(ADMIN),
  superadmin: new Set(SUPERADMIN),
};

/** The one pure authorization check: may a holder of `role` do `permission`? */
export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

const RANK: Record<Role, number> = { user: 0, admin: 1, superadmin: 2 };

/** True when `role` is `minimum` or higher (a role grants its lower roles too). */
export function atLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}
