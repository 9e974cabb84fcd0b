import type { AuditLog } from "../../audit/audit-log.js";
import type { Clock } from "../../clock.js";
import { GatehouseError } from "../../errors.js";
import type { Random } from "../../random.js";
import type { UserSecrets } from "../../secrets/user-secrets.js";
import type { SessionOrigin } from "../../sessions/session-service.js";
import type { User } from "../../users/user.js";
import type { NotifyUser } from "../account-notices.js";
import type { SecondFactorGuard } from "../second-factor-guard.js";
import { matchTotpStep, newTotpSecret, totpUrl } from "./totp-code.js";
import { TOTP_PENDING_SECRET_KIND, TOTP_SECRET_KIND, type TotpFactorStore } from "./totp-factor-store.js";
import { totpQrSvg } from "./totp-qr.js";

/** The method name of an authenticator app (`mfa_required`'s `methods`, `POST /api/auth/mfa/verify`'s `method`). */
export const TOTP_METHOD = "totp";

/** What an enrolment shows the user, once: the secret, its otpauth URL and that URL's QR code (SVG). */
export interface TotpEnrolment {
  secret: string;
  otpauthUrl: string;
  qrSvg: string;
}

/** Authenticator apps (RFC 6238) as a second factor (MFA-01, MFA-02). */
export interface TotpService {
  /**
   * Starts (or restarts) an enrolment: a new 160-bit secret, stored encrypted
   * as the pending one (replacing any earlier pending one). An active secret
   * stays in force until a code of the new one confirms it.
   */
  enrol(user: Pick<User, "id" | "username">): Promise<TotpEnrolment>;
  /** The enrolment still waiting for its first code (to show it again after a wrong code), or null. */
  pendingEnrolment(user: Pick<User, "id" | "username">): Promise<TotpEnrolment | null>;
  /**
   * Confirms the pending enrolment with its first code, checked through the
   * second-factor guard (throttles, MFA-03 pause): the pending secret becomes
   * the active one (codes of an older secret stop working), the factor counts
   * as enrolled, `mfa_enabled` is audited and the user mailed. Throws 409
   * `enrolment_not_started` without a pending enrolment, 401
   * `invalid_second_factor` for a wrong, stale or replayed code.
   */
  confirm(user: Pick<User, "id" | "email">, code: string, origin: SessionOrigin): Promise<void>;
  /**
   * True when `code` is the user's confirmed secret's code for one step
   * either side of now, for a step later than any accepted before (a
   * successful check uses its step up, on every instance). Never throws for
   * a wrong code; callers regulate attempts through the guard.
   */
  verify(userId: string, code: string): Promise<boolean>;
  /** True when the user has a confirmed authenticator app. */
  isEnrolled(userId: string): Promise<boolean>;
  /**
   * Removes the factor and both secrets; audits `mfa_disabled` and mails the
   * user when there was a confirmed one. False when there was nothing.
   * (Re-authentication is the caller's check.)
   */
  disable(user: Pick<User, "id" | "email" | "role">, origin: SessionOrigin): Promise<boolean>;
  /** Removes the user's authenticator app and any setup in progress, silently (an administrator's reset audits and mails once for every factor). */
  removeAll(userId: string): Promise<void>;
}

/** Dependencies of {@link createTotpService}. */
export interface TotpServiceDeps {
  store: TotpFactorStore;
  secrets: UserSecrets;
  guard: SecondFactorGuard;
  audit: AuditLog;
  notify: NotifyUser;
  clock: Clock;
  random: Random;
  /** The issuer shown in authenticator apps (the product's name). */
  issuer: string;
  /** Throws 409 `last_second_factor` when the policy keeps the user from removing this factor (MFA-08; `MfaPolicy.assertMayRemove`). */
  assertMayRemove?: (user: Pick<User, "id" | "role">, method: string) => Promise<void>;
}

/** Creates the {@link TotpService}. */
export function createTotpService(deps: TotpServiceDeps): TotpService {
  const { store, secrets, guard, audit, notify, clock, random, issuer } = deps;
  const request = (origin: SessionOrigin) => ({ ip: origin.ip, userAgent: origin.userAgent, ...(origin.requestId ? { requestId: origin.requestId } : {}) });

  /** Uses the step of `code` under `secret`, atomically; false for a wrong or already-used step. */
  async function accept(userId: string, secret: string, code: string): Promise<boolean> {
    const step = await matchTotpStep(secret, code, clock.now());
    if (step === null) return false;
    return store.useStep(userId, step, clock.now());
  }

  async function enrolmentOf(secret: string, username: string): Promise<TotpEnrolment> {
    const otpauthUrl = totpUrl(secret, issuer, username);
    return { secret, otpauthUrl, qrSvg: await totpQrSvg(otpauthUrl) };
  }

  return {
    async enrol(user) {
      const secret = newTotpSecret(random);
      await secrets.set(user.id, TOTP_PENDING_SECRET_KIND, secret);
      await store.ensure(user.id, clock.now());
      return enrolmentOf(secret, user.username);
    },

    async pendingEnrolment(user) {
      const secret = await secrets.get(user.id, TOTP_PENDING_SECRET_KIND);
      return secret === null ? null : enrolmentOf(secret, user.username);
    },

    async confirm(user, code, origin) {
      const pending = await secrets.get(user.id, TOTP_PENDING_SECRET_KIND);
      if (pending === null) throw new GatehouseError("enrolment_not_started");
      await store.ensure(user.id, clock.now());
      const ok = await guard.check(user, origin, TOTP_METHOD, () => accept(user.id, pending, code));
      if (!ok) throw new GatehouseError("invalid_second_factor");
      // The new secret first, then the confirmation: a failure in between leaves no confirmed factor without its secret.
      await secrets.set(user.id, TOTP_SECRET_KIND, pending);
      await store.confirm(user.id, clock.now());
      await secrets.remove(user.id, TOTP_PENDING_SECRET_KIND);
      await audit.record({ type: "mfa_enabled", userId: user.id, actorId: user.id, details: { method: TOTP_METHOD }, ...request(origin) });
      notify("second_factor_added", user);
    },

    async verify(userId, code) {
      const factor = await store.find(userId);
      if (factor === null || factor.confirmedAt === null) return false;
      const secret = await secrets.get(userId, TOTP_SECRET_KIND);
      if (secret === null) return false;
      return accept(userId, secret, code);
    },

    async isEnrolled(userId) {
      const factor = await store.find(userId);
      return factor !== null && factor.confirmedAt !== null;
    },

    async disable(user, origin) {
      const factor = await store.find(user.id);
      if (factor !== null && factor.confirmedAt !== null) await deps.assertMayRemove?.(user, TOTP_METHOD);
      const removed = await store.remove(user.id);
      await secrets.remove(user.id, TOTP_SECRET_KIND);
      await secrets.remove(user.id, TOTP_PENDING_SECRET_KIND);
      if (!removed || factor === null || factor.confirmedAt === null) return removed;
      await audit.record({ type: "mfa_disabled", userId: user.id, actorId: user.id, details: { method: TOTP_METHOD }, ...request(origin) });
      notify("second_factor_removed", user);
      return true;
    },

    async removeAll(userId) {
      await store.remove(userId);
      await secrets.remove(userId, TOTP_SECRET_KIND);
      await secrets.remove(userId, TOTP_PENDING_SECRET_KIND);
    },
  };
}
