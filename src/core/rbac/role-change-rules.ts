import { GatehouseError } from "../errors.js";
import type { Role, User } from "../users/user.js";
import { can } from "./permissions.js";

/** A requested change to a user by an admin. */
export interface UserChange {
  role?: Role;
  blocked?: boolean;
}

/**
 * The vertical-privilege rules of docs/api.md and AZ-02, as a pipeline of named
 * checks that throw the first violation:
 * - only a superadmin grants or removes `admin`/`superadmin`;
 * - an admin cannot touch a superadmin, nor change their own role;
 * - nobody blocks themselves;
 * - the last superadmin cannot be demoted, blocked or deleted (409).
 */
export function checkUserChange(actor: User, target: User, change: UserChange, superadminCount: number): void {
  checkNotTouchingHigher(actor, target);
  if (change.role !== undefined && change.role !== target.role) {
    checkOwnRole(actor, target);
    checkGrant(actor, target.role, change.role);
    checkLastSuperadmin(target, superadminCount, change.role !== "superadmin");
  }
  if (change.blocked === true) {
    if (actor.id === target.id) throw new GatehouseError("forbidden");
    checkLastSuperadmin(target, superadminCount, true);
  }
}

/** Deleting a user: the same rules as blocking them. */
export function checkUserDeletion(actor: User, target: User, superadminCount: number): void {
  checkNotTouchingHigher(actor, target);
  checkLastSuperadmin(target, superadminCount, true);
}

/**
 * Giving a role to a new account (an invitation, an admin-made account): the
 * same grant rule as a role change from `user` — an admin may give `user`
 * only; `admin` and `superadmin` need a superadmin.
 */
export function checkRoleGrant(actor: User, role: Role): void {
  checkGrant(actor, "user", role);
}

/** Acting on an existing account (a reset link): an admin cannot act on a superadmin. */
export function checkCanActOn(actor: User, target: User): void {
  checkNotTouchingHigher(actor, target);
}

function checkNotTouchingHigher(actor: User, target: User): void {
  if (target.role === "superadmin" && actor.role !== "superadmin") throw new GatehouseError("forbidden");
}

function checkOwnRole(actor: User, target: User): void {
  if (actor.id === target.id && actor.role !== "superadmin") throw new GatehouseError("forbidden");
}

function checkGrant(actor: User, from: Role, to: Role): void {
  const touchesPrivilege = from !== "user" || to !== "user";
  if (touchesPrivilege && !can(actor.role, "admin:grant")) throw new GatehouseError("forbidden");
}

function checkLastSuperadmin(target: User, superadminCount: number, removes: boolean): void {
  if (removes && target.role === "superadmin" && superadminCount <= 1) throw new GatehouseError("last_superadmin");
}
