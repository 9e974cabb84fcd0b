import type { AuditLog } from "../../audit/audit-log.js";
import type { Clock } from "../../clock.js";
import { GatehouseError } from "../../errors.js";
import type { PasswordHasher } from "../../passwords/password-hasher.js";
import type { Random } from "../../random.js";
import type { Session } from "../../sessions/session.js";
import type { SessionOrigin } from "../../sessions/session-service.js";
import type { SecondFactorVerifier } from "../../sign-in/second-factors.js";
import type { User } from "../../users/user.js";
import type { NotifyUser } from "../account-notices.js";
import type { EnrolledFactorSource } from "../enrolled-factors.js";
import { generateRecoveryCode, parseRecoveryCode, RECOVERY_CODE_COUNT } from "./recovery-code-format.js";
import type { RecoveryCodeRow, RecoveryCodeStore } from "./recovery-code-store.js";

/** The method name of recovery codes (a login's `methods`, `POST /api/auth/mfa/verify`'s `method`). */
export const RECOVERY_CODE_METHOD = "recovery_code";

/**
 * Recovery codes, the backup second factor (MFA-05): ten single-use codes of
 * 80 secret bits, stored as Argon2id hashes, shown once; making new ones
 * revokes all the old ones.
 */
export interface RecoveryCodes {
  /**
   * Replaces every code of `userId` with {@link RECOVERY_CODE_COUNT} new ones
   * (one transaction) and returns them, formatted for display: the only time
   * they exist outside the user's hands.
   */
  issue(userId: string): Promise<string[]>;
  /**
   * The account action: {@link issue} for the signed-in `user`, audited
   * (`mfa_enabled`, method `recovery_code`) and mailed (`second_factor_added`). Throws 403 `reauth_required`
   * outside the sudo window and 409 `second_factor_required` when the user
   * has no primary second factor (codes only back one up).
   */
  regenerate(user: Pick<User, "id" | "email">, session: Session, origin: SessionOrigin): Promise<string[]>;
  /** True when `userId` may make codes: they have a primary second factor for the codes to back up. */
  canRegenerate(userId: string): Promise<boolean>;
  /** How many unused codes `userId` has (never the codes). */
  remaining(userId: string): Promise<number>;
  /** Deletes every code of `userId` (the last primary factor removed, an administrator's reset); returns how many. */
  removeAll(userId: string): Promise<number>;
  /**
   * Uses up one code of `user` if it is right and unused: true for exactly
   * one of concurrent uses of one code. A success is audited
   * (`mfa_recovery_used` with the remaining count) and mails the user.
   * Brute-force regulation is the caller's ({@link SecondFactorGuard}).
   */
  consume(user: Pick<User, "id" | "email">, code: string, origin: SessionOrigin): Promise<boolean>;
  /** "Has unused codes", a backup-only factor for the composite {@link SecondFactors}. */
  readonly source: EnrolledFactorSource;
  /** The sign-in verifier of method `recovery_code` (amr `otp`). */
  readonly verifier: SecondFactorVerifier;
}

/** Dependencies of {@link createRecoveryCodes}. */
export interface RecoveryCodesDeps {
  store: RecoveryCodeStore;
  /** Argon2id (the bounded password hasher in production). */
  hasher: Pick<PasswordHasher, "hash" | "verify" | "verifyDummy">;
  random: Random;
  clock: Clock;
  audit: AuditLog;
  notify: NotifyUser;
  /** Throws 403 `reauth_required` unless the session re-authenticated recently. */
  requireRecentAuth(session: Session): void;
  /** True when the user has a primary (not backup-only) second factor. */
  hasPrimaryFactor(userId: string): Promise<boolean>;
}

/** Creates the {@link RecoveryCodes} service. */
export function createRecoveryCodes(deps: RecoveryCodesDeps): RecoveryCodes {
  const { store, hasher, random, clock, audit, notify } = deps;

  async function issue(userId: string): Promise<string[]> {
    const now = clock.now();
    const codes = [];
    const lookups = new Set<string>();
    while (codes.length < RECOVERY_CODE_COUNT) {
      const code = generateRecoveryCode(random);
      // Lookups are unique per user; a repeat within the batch (20 bits) is drawn again.
      if (lookups.has(code.lookup)) continue;
      lookups.add(code.lookup);
      codes.push(code);
    }
    const rows: RecoveryCodeRow[] = [];
    for (const code of codes) {
      rows.push({ id: random.uuid(), userId, lookup: code.lookup, codeHash: await hasher.hash(code.secret), createdAt: now, usedAt: null });
    }
    await store.replaceAll(userId, rows);
    return codes.map((c) => c.display);
  }

  async function consume(user: Pick<User, "id" | "email">, code: string, origin: SessionOrigin): Promise<boolean> {
    const parsed = parseRecoveryCode(code);
    const row = parsed === null ? null : await store.findUnused(user.id, parsed.lookup);
    if (parsed === null || row === null) {
      // As long as a wrong secret: an unknown lookup part is not told apart by timing.
      await hasher.verifyDummy(parsed?.secret ?? code.slice(0, 64));
      return false;
    }
    if (!(await hasher.verify(row.codeHash, parsed.secret))) return false;
    // Single use: of concurrent uses of this code, the one whose update changes the row wins.
    if (!(await store.markUsed(row.id, clock.now()))) return false;
    const remaining = await store.countUnused(user.id);
    await audit.record({
      type: "mfa_recovery_used",
      userId: user.id,
      details: { remaining },
      ip: origin.ip,
      userAgent: origin.userAgent,
      ...(origin.requestId ? { requestId: origin.requestId } : {}),
    });
    notify("recovery_code_used", user);
    return true;
  }

  return {
    issue,
    async regenerate(user, session, origin) {
      deps.requireRecentAuth(session);
      if (!(await deps.hasPrimaryFactor(user.id))) throw new GatehouseError("second_factor_required");
      const codes = await issue(user.id);
      await audit.record({
        type: "mfa_enabled",
        userId: user.id,
        details: { method: RECOVERY_CODE_METHOD, codes: codes.length },
        ip: origin.ip,
        userAgent: origin.userAgent,
        ...(origin.requestId ? { requestId: origin.requestId } : {}),
      });
      notify("second_factor_added", user);
      return codes;
    },
    canRegenerate: (userId) => deps.hasPrimaryFactor(userId),
    remaining: (userId) => store.countUnused(userId),
    removeAll: (userId) => store.removeAll(userId),
    consume,
    source: { method: RECOVERY_CODE_METHOD, backupOnly: true, isEnrolled: async (userId) => (await store.countUnused(userId)) > 0 },
    verifier: { amr: "otp", verify: (user, code, origin) => consume(user, code, origin) },
  };
}
