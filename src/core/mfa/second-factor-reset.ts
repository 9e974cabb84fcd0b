import type { AuditLog } from "../audit/audit-log.js";
import { GatehouseError } from "../errors.js";
import { checkCanActOn, type Party } from "../rbac/role-change-rules.js";
import type { SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { SecondFactorMethod, SecondFactors } from "../sign-in/second-factors.js";
import type { User } from "../users/user.js";
import type { UserStore } from "../users/user-store.js";
import type { NotifyUser } from "./account-notices.js";
import type { SecondFactorGuard } from "./second-factor-guard.js";

/** One kind of second factor's way to remove everything a user has of it (their TOTP seed, their passkeys, their recovery codes). */
export interface SecondFactorRemover {
  readonly method: SecondFactorMethod;
  /** Removes every factor of this kind `userId` has (none: nothing happens). */
  removeAll(userId: string): Promise<void>;
}

/** The removers of the deployment: each kind of second factor registers one (src/compose.ts). */
export interface SecondFactorRemovers {
  register(remover: SecondFactorRemover): void;
  list(): readonly SecondFactorRemover[];
}

/** Creates an empty {@link SecondFactorRemovers}. */
export function createSecondFactorRemovers(): SecondFactorRemovers {
  const removers: SecondFactorRemover[] = [];
  return {
    register(remover) {
      if (removers.some((r) => r.method === remover.method)) throw new Error(`a remover for ${remover.method} is already registered`);
      removers.push(remover);
    },
    list: () => [...removers],
  };
}

/**
 * Who resets: an admin acting through the API or the dashboard (checked by
 * `canActOn` with `reset-mfa`: plain users for an admin, anyone but
 * themselves for a superadmin), or the operator's CLI (`user: null`, bound by
 * no role).
 */
export interface ResetActor {
  user: Party | null;
  /** Where the request came from (the CLI: `local`, `gatehouse-cli`). */
  origin: SessionOrigin;
}

/** What a reset did. */
export interface ResetResult {
  /** The methods the user had before (as `SecondFactors.methodsOf` listed them). */
  methods: SecondFactorMethod[];
  /** Sessions ended. */
  sessionsEnded: number;
}

/** Dependencies of {@link createResetSecondFactors}. */
export interface ResetSecondFactorsDeps {
  users: Pick<UserStore, "findById">;
  removers: SecondFactorRemovers;
  secondFactors: SecondFactors;
  guard: Pick<SecondFactorGuard, "unlock">;
  sessions: Pick<SessionService, "revokeAllForUser">;
  audit: AuditLog;
  notify: NotifyUser;
}

/**
 * An administrator's reset of a user's second factors (the user lost their
 * phone and their recovery codes): every registered remover runs, the MFA-03
 * pause is lifted, every session of the user ends, `mfa_reset` is audited
 * (actor, target, the methods removed) and the user is mailed
 * `second_factors_reset`. 404 `not_found` for an unknown user, 403
 * `forbidden` when the actor may not act on them. Afterwards the user signs in
 * with the password alone; where the policy requires a second factor they
 * must enrol one (within no grace: the account's grace counts from its creation).
 */
export type ResetSecondFactors = (userId: string, actor: ResetActor) => Promise<ResetResult>;

/** Creates the {@link ResetSecondFactors}. */
export function createResetSecondFactors(deps: ResetSecondFactorsDeps): ResetSecondFactors {
  const { users, removers, secondFactors, guard, sessions, audit, notify } = deps;
  return async (userId, actor) => {
    const user: User | null = await users.findById(userId);
    if (!user) throw new GatehouseError("not_found");
    if (actor.user !== null) checkCanActOn(actor.user, user, "reset-mfa");
    const methods = await secondFactors.methodsOf(userId);
    for (const remover of removers.list()) await remover.removeAll(userId);
    await guard.unlock(userId);
    const sessionsEnded = await sessions.revokeAllForUser(userId);
    await audit.record({
      type: "mfa_reset",
      actorId: actor.user?.id ?? null,
      userId,
      details: { methods: methods.join(" ") || "none", sessions: sessionsEnded, ...(actor.user === null ? { via: "cli" } : {}) },
      ...actor.origin,
    });
    notify("second_factors_reset", user);
    return { methods, sessionsEnded };
  };
}
