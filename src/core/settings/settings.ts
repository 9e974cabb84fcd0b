import type { RegistrationMode } from "../registration/registration-mode.js";
import type { SessionLifetimes } from "../sessions/session.js";

/** Runtime settings a superadmin changes from the admin API, applied without a restart. */
export interface Settings {
  /**
   * Who may create an account (`closed`, `invite` or `open`); defaults to
   * `REGISTRATION`. Replaces the former boolean `registrationEnabled`, whose
   * stored value is still read (true → `open`, false → `closed`).
   */
  registration: RegistrationMode;
  /** Whether new accounts must verify their email before signing in (enforced once email lands). */
  emailVerificationRequired: boolean;
  /** Session idle timeout, minutes. */
  sessionIdleMinutes: number;
  /** Session absolute lifetime, minutes. */
  sessionAbsoluteMinutes: number;
  /** "Remember me" lifetime, days. */
  sessionRememberDays: number;
  /** Enabled sign-in methods. */
  loginMethods: LoginMethod[];
}

/** Sign-in methods (more arrive with MFA and OAuth). */
export const LOGIN_METHODS = ["password"] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number];

/** The bounds each numeric setting is validated against. */
export const SETTING_BOUNDS = {
  sessionIdleMinutes: [1, 24 * 60],
  sessionAbsoluteMinutes: [5, 30 * 24 * 60],
  sessionRememberDays: [1, 30],
} as const;

/** Settings as they follow from the environment, before any change from the admin API. */
export function settingsFromLifetimes(lifetimes: SessionLifetimes, registration: RegistrationMode = "closed"): Settings {
  return {
    registration,
    emailVerificationRequired: false,
    sessionIdleMinutes: Math.round(lifetimes.idleMs / 60_000),
    sessionAbsoluteMinutes: Math.round(lifetimes.absoluteMs / 60_000),
    sessionRememberDays: Math.max(1, Math.round(lifetimes.rememberMs / 86_400_000)),
    loginMethods: ["password"],
  };
}
