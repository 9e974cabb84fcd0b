import type { Role } from "../users/user.js";
import type { Assurance, AuthMethod } from "./assurance.js";

/** A server-side session; the raw token is never stored, only its SHA-256. */
export interface Session {
  /** Public identifier (not a secret) used to list and revoke sessions. */
  id: string;
  /** SHA-256 of the cookie token, hex. */
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end of the session, whatever the activity. */
  expiresAt: number;
  /** Opted into "remember me": longer absolute lifetime, persistent cookie. */
  remember: boolean;
  ip: string;
  userAgent: string;
  /** When this session last proved the password (sign-in or re-authentication); sudo is measured from it. */
  reauthAt: number | null;
  /** How strongly the sign-in that opened this session proved the user (`aal2`: two kinds of factor). */
  aal: Assurance;
  /** The methods that proved the user at sign-in, in the order they were checked (RFC 8176: `pwd`, `otp`…). */
  amr: readonly AuthMethod[];
}

/** Session lifetimes, in milliseconds. */
export interface SessionLifetimes {
  /** Idle timeout (default 30 min). */
  idleMs: number;
  /** Idle timeout of admin and superadmin sessions (default 15 min, SESS-08). */
  adminIdleMs?: number;
  /** How recent a re-authentication must be for sensitive actions ("sudo", default 10 min). */
  sudoMs?: number;
  /** Absolute lifetime (default 12 h). */
  absoluteMs: number;
  /** Absolute lifetime of a "remember me" session (default 30 days); it idles out only at its end. */
  rememberMs: number;
  /** How often, at most, last-seen is written per session (default 60 s). */
  touchIntervalMs: number;
  /** Most sessions one user may hold; the oldest is evicted beyond it (default 10). */
  maxPerUser: number;
}

/** The product defaults (docs/security-requirements.md#product-defaults). */
export const defaultSessionLifetimes: SessionLifetimes = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
  rememberMs: 30 * 86_400_000,
  touchIntervalMs: 60_000,
  maxPerUser: 10,
};

/** Default admin idle timeout and sudo window. */
export const ADMIN_IDLE_MS = 15 * 60_000;
export const SUDO_MS = 10 * 60_000;

/**
 * The instant a session stops being valid: the earlier of idle and absolute
 * expiry. Admins and superadmins idle out sooner (15 min), even with
 * "remember me".
 */
export function sessionEndsAt(session: Session, lifetimes: SessionLifetimes, role: Role = "user"): number {
  if (role !== "user") return Math.min(session.expiresAt, session.lastSeenAt + Math.min(lifetimes.idleMs, lifetimes.adminIdleMs ?? ADMIN_IDLE_MS));
  if (session.remember) return session.expiresAt;
  return Math.min(session.expiresAt, session.lastSeenAt + lifetimes.idleMs);
}

/** True when the session re-authenticated within the sudo window (SESS-08). */
export function hasRecentAuth(session: Session, lifetimes: SessionLifetimes, now: number): boolean {
  return session.reauthAt !== null && now - session.reauthAt <= (lifetimes.sudoMs ?? SUDO_MS);
}
