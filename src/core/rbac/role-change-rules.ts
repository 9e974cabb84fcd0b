import { GatehouseError } from "../errors.js";
import type { Role, User } from "../users/user.js";
import { can, type Permission } from "./permissions.js";

/** A requested change to a user by an admin. */
export interface UserChange {
  role?: Role;
  blocked?: boolean;
}

/**
 * Everything an admin can do to an existing account through the admin API or
 * the dashboard. Reading an account (its profile, sessions and audit trail)
 * is not an action: every admin may read every account.
 */
export const TARGET_ACTIONS = ["set-role", "block", "unblock", "delete", "revoke-sessions", "unlock", "send-reset-link", "reset-mfa"] as const;

/** An action on an existing account, checked by {@link canActOn}. */
export type TargetAction = (typeof TARGET_ACTIONS)[number];

const ACTION_PERMISSION: Record<TargetAction, Permission> = {
  "set-role": "user:set-role",
  block: "user:block",
  unblock: "user:block",
  delete: "user:delete",
  "revoke-sessions": "session:revoke-any",
  unlock: "user:unlock",
  "send-reset-link": "user:send-reset-link",
  "reset-mfa": "user:reset-mfa",
};

/** The id and role of an account, all {@link canActOn} looks at. */
export type Party = Pick<User, "id" | "role">;

/**
 * The one rule for who may act on whose account (AZ-02), for the admin API,
 * the dashboard and the services behind them:
 * - the actor's role must hold the action's permission (an `admin` or higher);
 * - on their own account: nobody blocks themselves or resets their own second
 *   factors (their own factor routes remove one at a time, under the policy's
 *   last-factor rule), and only a superadmin changes their own role;
 *   everything else is allowed;
 * - on someone else's: an admin acts on plain users only; acting on another
 *   admin or on a superadmin needs `admin:manage`, which only a superadmin holds.
 *
 * Which role change is allowed (granting `admin`, `superadmin`) is
 * {@link checkUserChange}'s grant rule; keeping one superadmin is the store's
 * guarded change. The operator's CLI is not an actor here: it acts with the
 * database's own rights, bound only by the last-superadmin guard.
 */
export function canActOn(actor: Party, target: Party, action: TargetAction): boolean {
  if (!can(actor.role, ACTION_PERMISSION[action])) return false;
  if (actor.id === target.id) {
    if (action === "block" || action === "reset-mfa") return false;
    if (action === "set-role") return can(actor.role, "admin:grant");
    return true;
  }
  return target.role === "user" || can(actor.role, "admin:manage");
}

/** Throws 403 `forbidden` unless {@link canActOn} allows it. */
export function checkCanActOn(actor: Party, target: Party, action: TargetAction): void {
  if (!canActOn(actor, target, action)) throw new GatehouseError("forbidden");
}

/**
 * The vertical-privilege rules of a role or block change (docs/api.md, AZ-02),
 * throwing the first violation: {@link canActOn} for each requested field
 * (asked even when the value would not change, so an admin learns nothing
 * about an account they may not touch), then the grant rule — only a
 * superadmin grants or removes `admin`/`superadmin`. That the last active
 * superadmin stays is checked where the change is applied, atomically
 * (`UserStore.changeGuardingLastSuperadmin`, 409 `last_superadmin`).
 */
export function checkUserChange(actor: User, target: User, change: UserChange): void {
  if (change.role !== undefined) {
    checkCanActOn(actor, target, "set-role");
    if (change.role !== target.role) checkGrant(actor, target.role, change.role);
  }
  if (change.blocked !== undefined) checkCanActOn(actor, target, change.blocked ? "block" : "unblock");
}

/** Deleting a user: {@link canActOn} with `delete` (the last superadmin is guarded by the store). */
export function checkUserDeletion(actor: User, target: User): void {
  checkCanActOn(actor, target, "delete");
}

/**
 * Giving a role to a new account (an invitation, an admin-made account): the
 * same grant rule as a role change from `user` — an admin may give `user`
 * only; `admin` and `superadmin` need a superadmin.
 */
export function checkRoleGrant(actor: User, role: Role): void {
  checkGrant(actor, "user", role);
}

function checkGrant(actor: User, from: Role, to: Role): void {
  const touchesPrivilege = from !== "user" || to !== "user";
  if (touchesPrivilege && !can(actor.role, "admin:grant")) throw new GatehouseError("forbidden");
}
