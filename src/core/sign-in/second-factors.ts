import type { AuthMethod } from "../sessions/assurance.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { User } from "../users/user.js";

/**
 * The name a client uses for a second factor (`totp`, `webauthn`,
 * `recovery_code`): what a login's `mfa_required` answer lists and what
 * `POST /api/auth/mfa/verify` names as its `method` (docs/api.md).
 */
export type SecondFactorMethod = string;

/**
 * The port that says which second factors a user has enrolled. A user with
 * none signs in with the first factor alone; a user with any gets a pending
 * sign-in that only one of them completes.
 */
export interface SecondFactors {
  /** The enrolled methods of a user, in the order a client should offer them; empty when none. */
  methodsOf(userId: string): Promise<SecondFactorMethod[]>;
}

/**
 * Where a second factor is presented: the pending sign-in it completes, or
 * the signed-in session it steps up. A factor whose proof is bound to one (a
 * passkey's challenge) checks the binding.
 */
export interface SecondFactorContext {
  /** SHA-256 (hex) of the pending sign-in's token. */
  pendingTokenHash?: string;
  /** The id of the session stepping up. */
  sessionId?: string;
}

/**
 * Checks one kind of second factor. Plugged into the pending sign-in by
 * method name; it owns its secrets, its replay protection and its counters.
 */
export interface SecondFactorVerifier {
  /** The method reference a success adds to the session's `amr` (`otp` for a TOTP or recovery code, `hwk` for a passkey). */
  readonly amr: AuthMethod;
  /** True when `code` proves `user`'s factor; false otherwise (never throws for a wrong code). */
  verify(user: User, code: string, origin: SessionOrigin, context?: SecondFactorContext): Promise<boolean>;
}

/** The verifiers available, keyed by {@link SecondFactorMethod}. */
export type SecondFactorVerifiers = ReadonlyMap<SecondFactorMethod, SecondFactorVerifier>;
