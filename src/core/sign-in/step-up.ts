import type { AuditLog } from "../audit/audit-log.js";
import { GatehouseError } from "../errors.js";
import type { SecondFactorGuard } from "../mfa/second-factor-guard.js";
import { assuranceOf, formatAmr, type AuthMethod } from "../sessions/assurance.js";
import type { IssuedSession, SessionOrigin, SessionService, ValidSession } from "../sessions/session-service.js";
import type { SecondFactorProof } from "./pending-sign-in.js";
import type { SecondFactorMethod, SecondFactors, SecondFactorVerifiers } from "./second-factors.js";

/**
 * A second factor given by a user who is already signed in: the step-up a
 * `two_factor` access rule asks of a one-factor (`aal1`) session, and the
 * second-factor form of re-authentication ("sudo"). The methods the new
 * session records come from the server alone: the session's own, plus the
 * `amr` of the verifier that just accepted the code; nothing a client sends
 * (a cookie, a header, a body field) can add one.
 */
export interface StepUp {
  /** The second factors the user can give now, in the order a client should offer them; empty when none is enrolled. */
  methodsOf(userId: string): Promise<SecondFactorMethod[]>;
  /**
   * Checks `proof` under the second factors' brute-force regulation
   * ({@link SecondFactorGuard}), then rotates the session: a new token (the
   * old one ends), the methods plus the factor's own (so `aal2`), the same
   * absolute expiry. Audited `mfa_step_up`. Throws 401
   * `invalid_second_factor` for a wrong code, or a method the user has not
   * enrolled (none at all included), 429 `rate_limited` while throttled or
   * paused.
   */
  verify(signedIn: ValidSession, proof: SecondFactorProof, origin: SessionOrigin): Promise<IssuedSession>;
  /**
   * The same check as {@link StepUp.verify} for a re-authentication: the new
   * session is also marked freshly re-authenticated (the sudo window starts).
   */
  reauthenticate(signedIn: ValidSession, proof: SecondFactorProof, origin: SessionOrigin): Promise<IssuedSession>;
}

/** Dependencies of {@link createStepUp}. */
export interface StepUpDeps {
  sessions: Pick<SessionService, "rotate">;
  secondFactors: SecondFactors;
  verifiers: SecondFactorVerifiers;
  guard: SecondFactorGuard;
  audit: AuditLog;
}

/** Creates the {@link StepUp} flow. */
export function createStepUp(deps: StepUpDeps): StepUp {
  const { sessions, secondFactors, verifiers, guard, audit } = deps;

  async function prove(signedIn: ValidSession, proof: SecondFactorProof, origin: SessionOrigin, reauthenticated: boolean): Promise<IssuedSession> {
    const { user, session } = signedIn;
    const enrolled = await secondFactors.methodsOf(user.id);
    const verifier = enrolled.includes(proof.method) ? verifiers.get(proof.method) : undefined;
    const ok = await guard.check(user, origin, proof.method, async () => verifier !== undefined && (await verifier.verify(user, proof.code, origin, { sessionId: session.id })));
    if (!ok || verifier === undefined) throw new GatehouseError("invalid_second_factor");
    const [first, ...rest] = session.amr;
    const methods: [AuthMethod, ...AuthMethod[]] = [first ?? "pwd", ...rest];
    if (!methods.includes(verifier.amr)) methods.push(verifier.amr);
    const issued = await sessions.rotate(session, origin, { methods, reauthenticated });
    await audit.record({
      type: "mfa_step_up",
      userId: user.id,
      actorId: user.id,
      details: { method: proof.method.slice(0, 32), aal: assuranceOf(methods), amr: formatAmr(methods), ...(reauthenticated ? { reauth: 1 } : {}) },
      ...origin,
    });
    return issued;
  }

  return {
    methodsOf: (userId) => secondFactors.methodsOf(userId),
    verify: (signedIn, proof, origin) => prove(signedIn, proof, origin, false),
    reauthenticate: (signedIn, proof, origin) => prove(signedIn, proof, origin, true),
  };
}
