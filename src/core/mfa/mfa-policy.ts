import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { Assurance } from "../sessions/assurance.js";
import type { SecondFactorMethod, SecondFactors } from "../sign-in/second-factors.js";
import type { User } from "../users/user.js";
import { mfaRequiredForRole, type MfaRequirement } from "./mfa-requirement.js";

/** The method of recovery codes: a backup, never a second factor on its own (see `EnrolledFactorSource.backupOnly`). */
export const BACKUP_METHOD: SecondFactorMethod = "recovery_code";

/** The policy's settings: `MFA_REQUIRED` and `MFA_GRACE_PERIOD`. */
export interface MfaPolicySettings {
  requirement: MfaRequirement;
  /** How long after its creation an account the requirement applies to may still work without a second factor, ms (0: none). */
  graceMs: number;
}

/** Where an account stands with the policy. */
export interface MfaStanding {
  /** The requirement applies to the account's role. */
  required: boolean;
  /** The second factors it has (empty: none; recovery codes alone count as none). */
  methods: SecondFactorMethod[];
  /**
   * Required, without a second factor, and still within the grace period:
   * when the grace ends (epoch ms). Null otherwise.
   */
  graceEndsAt: number | null;
}

/** Who asks for an administrator function: the user, and the assurance of the session (null for an API token). */
export interface AdminCaller {
  user: Pick<User, "id" | "role" | "createdAt">;
  /** The session's assurance; null when the caller is an API token (see {@link MfaPolicy.checkAdminAccess}). */
  aal: Assurance | null;
}

/**
 * Who must have a second factor, and what follows (AZ-06, MFA-08). The one
 * place admin functions are refused for want of a second factor: the
 * pipeline's access step calls {@link MfaPolicy.checkAdminAccess} for every
 * route whose access is `admin` or `superadmin`.
 */
export interface MfaPolicy {
  readonly settings: Readonly<MfaPolicySettings>;
  /** True when the requirement applies to `user`'s role (`admins`: admin and superadmin; `everyone`; `off`: nobody). */
  requiredFor(user: Pick<User, "role">): boolean;
  /** Where `user` stands: required or not, the factors they have, the end of their grace period. */
  standing(user: Pick<User, "id" | "role" | "createdAt">): Promise<MfaStanding>;
  /**
   * Throws unless `caller` may use an administrator function (their role was
   * checked before). When the requirement applies to them:
   * - without a second factor, past the grace period: 403 `mfa_enrollment_required`;
   * - with one, on a session that did not prove it (`aal1`, e.g. a session
   *   opened before the factor was added): 401 `mfa_required` — step up with
   *   the factor (`POST /api/auth/mfa/verify`, the page `/login/second-factor`). API tokens carry no assurance of their own: only the
   *   first rule applies to them (the token was made in a session, and its
   *   owner's factors are checked on every call).
   * Within the grace period an account without a factor passes: the answer
   * is then when the grace ends (epoch ms), so the caller can be told to
   * enrol; otherwise null.
   */
  checkAdminAccess(caller: AdminCaller): Promise<number | null>;
  /**
   * MFA-08: may `user` remove their `method` now? False when the requirement
   * applies to them and it is their last primary second factor (recovery codes
   * never count, and removing them is always allowed). `lastOfItsKind`: the
   * factor is the only one of its method (default true; a user with two
   * passkeys may remove one of them).
   */
  mayRemoveFactor(user: Pick<User, "id" | "role">, method: SecondFactorMethod, opts?: { lastOfItsKind?: boolean }): Promise<boolean>;
  /** {@link mayRemoveFactor}, throwing 409 `last_second_factor` when it is false. The factor routes call it before removing. */
  assertMayRemove(user: Pick<User, "id" | "role">, method: SecondFactorMethod, opts?: { lastOfItsKind?: boolean }): Promise<void>;
}

/** Dependencies of {@link createMfaPolicy}. */
export interface MfaPolicyDeps {
  settings: MfaPolicySettings;
  secondFactors: SecondFactors;
  clock: Clock;
}

/** Creates the {@link MfaPolicy}. */
export function createMfaPolicy(deps: MfaPolicyDeps): MfaPolicy {
  const { secondFactors, clock } = deps;
  const settings = Object.freeze({ ...deps.settings });
  const requiredFor = (user: Pick<User, "role">) => mfaRequiredForRole(settings.requirement, user.role);
  const primary = (methods: SecondFactorMethod[]) => methods.filter((m) => m !== BACKUP_METHOD);

  async function mayRemoveFactor(user: Pick<User, "id" | "role">, method: SecondFactorMethod, opts: { lastOfItsKind?: boolean } = {}): Promise<boolean> {
    if (method === BACKUP_METHOD || !requiredFor(user)) return true;
    if (opts.lastOfItsKind === false) return true;
    const methods = primary(await secondFactors.methodsOf(user.id));
    if (!methods.includes(method)) return true;
    return methods.some((m) => m !== method);
  }

  return {
    settings,
    requiredFor,
    async standing(user) {
      const required = requiredFor(user);
      const methods = await secondFactors.methodsOf(user.id);
      const graceEnd = user.createdAt + settings.graceMs;
      const graceEndsAt = required && methods.length === 0 && clock.now() < graceEnd ? graceEnd : null;
      return { required, methods, graceEndsAt };
    },
    async checkAdminAccess(caller) {
      if (!requiredFor(caller.user)) return null;
      const methods = await secondFactors.methodsOf(caller.user.id);
      if (methods.length === 0) {
        const graceEnd = caller.user.createdAt + settings.graceMs;
        if (clock.now() < graceEnd) return graceEnd;
        throw new GatehouseError("mfa_enrollment_required");
      }
      if (caller.aal !== null && caller.aal !== "aal2") throw new GatehouseError("mfa_required");
      return null;
    },
    mayRemoveFactor,
    async assertMayRemove(user, method, opts) {
      if (!(await mayRemoveFactor(user, method, opts))) throw new GatehouseError("last_second_factor");
    },
  };
}
