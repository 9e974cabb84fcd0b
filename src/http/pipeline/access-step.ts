import type { onRequestHookHandler } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import { atLeast } from "../../core/rbac/permissions.js";
import { bearerCredential, tokenAllows } from "../../core/tokens/api-token.js";
import type { MfaPolicy } from "../../core/mfa/mfa-policy.js";
import type { Config } from "../../config/config.js";
import { clearSessionCookie, readSessionToken } from "../plugins/session-cookie.js";
import type { RequestAuth, TokenRule } from "../types.js";

/** The answer header of an admin route telling an account within its grace period when it must have a second factor. */
export const MFA_ENROLL_BY_HEADER = "Gatehouse-MFA-Enroll-By";

/** True when a token-authenticated request may pass the route's token rule (scopes ∩ the owner's current role, TOK-03). */
function tokenMayCall(auth: Extract<RequestAuth, { via: "token" }>, rule: TokenRule): boolean {
  if (rule === false) return false;
  return tokenAllows(auth.token, auth.user.role, typeof rule === "string" ? rule : rule.scope);
}

/**
 * Builds the access step of signed-in routes (AZ-01): 401 without a
 * principal (and a dead session cookie cleared, or `WWW-Authenticate` for a
 * refused token), 403 with a role below the route's or a token whose scopes
 * or owner's role fall short. On `admin` and `superadmin` routes it then asks
 * the MFA policy (AZ-06): 403 `mfa_enrollment_required` for an account that
 * must have a second factor and has none, 401 `mfa_required` for a session
 * that did not prove the factor the account has. It runs after the route's
 * limit, so an anonymous client has been counted by IP before it is turned
 * away, and still before any body is read.
 */
export function createAccessStep(config: Config, cookieName: string, mfaPolicy: MfaPolicy): (access: "user" | "admin" | "superadmin", rule: TokenRule) => onRequestHookHandler {
  return (access, rule) =>
    function refuseAccess(request, reply, done) {
      const auth = request.auth;
      if (auth === null) {
        if (readSessionToken(request, cookieName) !== null) clearSessionCookie(reply, config);
        else if (bearerCredential(request.headers.authorization) !== null) reply.header("WWW-Authenticate", 'Bearer error="invalid_token"');
        return done(new GatehouseError("unauthenticated"));
      }
      // Roles are read from the user record on every request (through the 5-second cache, dropped on change;
      // a token's owner is read afresh on every request).
      if (access !== "user" && !atLeast(auth.user.role, access)) return done(new GatehouseError("forbidden"));
      if (auth.via === "token" && !tokenMayCall(auth, rule)) return done(new GatehouseError("forbidden"));
      // Plain-user routes, and admins the requirement does not cover (MFA_REQUIRED=off), pass without a store read.
      if (access === "user" || !mfaPolicy.requiredFor(auth.user)) return done();
      // Administrator functions need the second factor the policy requires (one place: every admin route passes here).
      mfaPolicy.checkAdminAccess({ user: auth.user, aal: auth.via === "token" ? null : auth.session.aal }).then(
        (graceEndsAt) => {
          if (graceEndsAt !== null) {
            // Within the grace period: allowed, and told until when (the dashboard shows it as a banner).
            request.mfaGraceEndsAt = graceEndsAt;
            reply.header(MFA_ENROLL_BY_HEADER, new Date(graceEndsAt).toISOString());
          }
          done();
        },
        (err: unknown) => done(err as Error),
      );
    };
}
