import type { AuditLog, AuditPage, AuditSearch } from "../audit/audit-log.js";
import type { AuditStore } from "../audit/audit-store.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { Ban } from "../rate-limit/limiter-store.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import { checkCanActOn, checkUserChange, checkUserDeletion, type UserChange } from "../rbac/role-change-rules.js";
import type { Session, SessionLifetimes } from "../sessions/session.js";
import type { SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { SessionStore } from "../sessions/session-store.js";
import type { User } from "../users/user.js";
import type { GuardedChangeResult, UserSearch, UserStore } from "../users/user-store.js";

/** The signed-in admin acting, with the session that carries their sudo state. */
export interface Actor {
  user: User;
  session: Session;
  origin: SessionOrigin;
}

/** Dashboard counts. */
export interface AdminStats {
  users: number;
  activeSessions: number;
  /** Sign-ins and failures per hour over the last 7 days, oldest first, 168 entries. */
  hourly: { hour: string; signIns: number; failures: number }[];
}

/** Dependencies of {@link createAdminService}. */
export interface AdminServiceDeps {
  users: UserStore;
  sessions: SessionService;
  sessionStore: SessionStore;
  auditStore: AuditStore;
  audit: AuditLog;
  regulator: SecretRegulator;
  bans: { list(): Promise<Ban[]>; lift(ip: string): Promise<boolean> };
  clock: Clock;
  lifetimes: SessionLifetimes;
  /** Throws 403 `reauth_required` unless the session re-authenticated recently. */
  requireRecentAuth(session: Session): void;
}

/**
 * The admin API's logic: every action checked, applied and audited with actor
 * and target. Who may act on whom is `canActOn` (role-change-rules): an admin
 * acts on plain users and on themself, a superadmin on anyone (403
 * `forbidden` otherwise); removing the last active superadmin is 409
 * `last_superadmin`.
 */
export interface AdminService {
  searchUsers(actor: Actor, search: UserSearch): Promise<{ users: User[]; total: number }>;
  getUser(actor: Actor, id: string): Promise<User>;
  updateUser(actor: Actor, id: string, change: UserChange): Promise<User>;
  deleteUser(actor: Actor, id: string): Promise<void>;
  listSessions(actor: Actor, id: string, limit: number, offset: number): Promise<Session[]>;
  revokeSessions(actor: Actor, id: string): Promise<number>;
  /** Ends one session of user `id`; false when it is not theirs (or gone). */
  revokeSession(actor: Actor, id: string, sessionId: string): Promise<boolean>;
  unlock(actor: Actor, id: string): Promise<void>;
  searchAudit(actor: Actor, search: AuditSearch): Promise<AuditPage>;
  stats(actor: Actor): Promise<AdminStats>;
  listBans(actor: Actor): Promise<Ban[]>;
  liftBan(actor: Actor, ip: string): Promise<boolean>;
}

const HOUR = 3_600_000;

/** Creates the {@link AdminService}. */
export function createAdminService(deps: AdminServiceDeps): AdminService {
  const { users, sessions, audit, clock } = deps;

  async function target(id: string): Promise<User> {
    const user = await users.findById(id);
    if (!user) throw new GatehouseError("not_found");
    return user;
  }

  /** Turns the store's answer to a guarded change into the API's errors. */
  function applied(result: GuardedChangeResult): void {
    if (result === "not_found") throw new GatehouseError("not_found");
    if (result === "last_superadmin") throw new GatehouseError("last_superadmin");
  }

  /** Admin reads are audited too (`admin_access`). */
  async function access(actor: Actor, what: string, userId: string | null = null): Promise<void> {
    await audit.record({ type: "admin_access", actorId: actor.user.id, userId, details: { what }, ...actor.origin });
  }

  return {
    async searchUsers(actor, search) {
      await access(actor, "users");
      return users.search(search);
    },
    async getUser(actor, id) {
      const user = await target(id);
      await access(actor, "user", id);
      return user;
    },
    async updateUser(actor, id, change) {
      const user = await target(id);
      const roleChanges = change.role !== undefined && change.role !== user.role;
      if (roleChanges) deps.requireRecentAuth(actor.session);
      checkUserChange(actor.user, user, change);
      const blockChanges = change.blocked !== undefined && change.blocked !== user.blocked;
      if (!roleChanges && !blockChanges) return user;
      // Applied only if an active superadmin remains, atomically (two removals sent at once cannot both pass).
      applied(await users.changeGuardingLastSuperadmin(id, { kind: "update", ...change }, clock.now()));
      // A role change or a block ends every session of that user at once (SESS-11).
      await sessions.revokeAllForUser(id);
      const base = { actorId: actor.user.id, userId: id, ...actor.origin };
      if (roleChanges) await audit.record({ type: "role_change", details: { from: user.role, to: change.role ?? user.role }, ...base });
      if (blockChanges) await audit.record({ type: change.blocked ? "user_blocked" : "user_unblocked", ...base });
      return target(id);
    },
    async deleteUser(actor, id) {
      const user = await target(id);
      deps.requireRecentAuth(actor.session);
      checkUserDeletion(actor.user, user);
      applied(await users.changeGuardingLastSuperadmin(id, { kind: "delete" }, clock.now()));
      // The session rows went with the user (foreign key); this empties the session cache.
      await sessions.revokeAllForUser(id);
      await audit.record({ type: "user_deleted", actorId: actor.user.id, userId: id, details: { username: user.username }, ...actor.origin });
    },
    async listSessions(actor, id, limit, offset) {
      await target(id);
      await access(actor, "sessions", id);
      return sessions.list(id, limit, offset);
    },
    async revokeSessions(actor, id) {
      const user = await target(id);
      checkCanActOn(actor.user, user, "revoke-sessions");
      const count = await sessions.revokeAllForUser(id);
      await audit.record({ type: "session_revoked", actorId: actor.user.id, userId: id, details: { count, scope: "all" }, ...actor.origin });
      return count;
    },
    async revokeSession(actor, id, sessionId) {
      const user = await target(id);
      checkCanActOn(actor.user, user, "revoke-sessions");
      const revoked = await sessions.revokeById(id, sessionId);
      if (revoked) await audit.record({ type: "session_revoked", actorId: actor.user.id, userId: id, details: { count: 1, scope: "one" }, ...actor.origin });
      return revoked;
    },
    async unlock(actor, id) {
      checkCanActOn(actor.user, await target(id), "unlock");
      await deps.regulator.unlock(`user:${id}`);
      await audit.record({ type: "admin_access", actorId: actor.user.id, userId: id, details: { what: "unlock" }, ...actor.origin });
    },
    async searchAudit(actor, search) {
      await access(actor, "audit");
      return audit.search(search);
    },
    async stats(actor) {
      await access(actor, "stats");
      const now = clock.now();
      const first = Math.floor(now / HOUR) * HOUR - 167 * HOUR;
      const [total, active, counts] = await Promise.all([
        users.count(),
        deps.sessionStore.countActive(now, deps.lifetimes.idleMs),
        deps.auditStore.countByHour(["login_success", "login_failure"], first, now),
      ]);
      const hourly = Array.from({ length: 168 }, (_, i) => ({ hour: new Date(first + i * HOUR).toISOString(), signIns: 0, failures: 0 }));
      for (const c of counts) {
        const slot = hourly[(c.hour - first) / HOUR];
        if (!slot) continue;
        if (c.type === "login_success") slot.signIns += c.count;
        else slot.failures += c.count;
      }
      return { users: total, activeSessions: active, hourly };
    },
    async listBans(actor) {
      await access(actor, "bans");
      return deps.bans.list();
    },
    async liftBan(actor, ip) {
      const lifted = await deps.bans.lift(ip);
      if (lifted) await audit.record({ type: "admin_access", actorId: actor.user.id, details: { what: "lift_ban", ip }, ...actor.origin });
      return lifted;
    },
  };
}
