import type { FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";
import type { SessionService, ValidSession } from "../core/sessions/session-service.js";
import { readSessionToken, readSsoToken, sessionCookieName } from "./plugins/session-cookie.js";

/** The session a browser presents to a protected app, and the cookie that carried it. */
export interface PresentedSession {
  /** The valid session and its user, or null (no cookie, or a dead, forged or tampered one). */
  valid: ValidSession | null;
  /** The session token presented (unsealed, for the SSO cookie), or null when neither cookie was. */
  token: string | null;
  /** The cookie that decided: the portal's host-only cookie, the SSO cookie, or none. */
  cookie: "host" | "sso" | null;
}

/**
 * Resolves the session of a request to a protected app. `sso: false` (the
 * portal's own host and its demo) never reads the SSO cookie (FWD-07).
 */
export type PresentedSessionResolver = (request: FastifyRequest, options?: { sso?: boolean }) => Promise<PresentedSession>;

/**
 * The one reading of the browser's session for forward-auth, the reverse
 * proxy and the WebSockets it opens (which are re-checked with the `token`
 * resolved here). The host-only cookie, when presented, decides (the
 * pipeline's `resolveSession` step has already resolved it into `request.auth`); without it, the
 * cross-subdomain SSO cookie (COOKIE_DOMAIN) does, once its seal opens. A
 * duplicated cookie counts as none (cookie tossing).
 */
export function createPresentedSessionResolver(deps: { sessions: Pick<SessionService, "validate">; config: Config }): PresentedSessionResolver {
  const hostName = sessionCookieName(deps.config);
  return async (request, options = {}) => {
    const host = readSessionToken(request, hostName);
    if (host !== null) {
      const auth = request.auth?.via === "session" ? request.auth : null;
      return { valid: auth === null ? null : { session: auth.session, user: auth.user }, token: host, cookie: "host" };
    }
    const sso = options.sso === false ? null : readSsoToken(request, deps.config);
    if (sso === null) return { valid: null, token: null, cookie: null };
    return { valid: await deps.sessions.validate(sso), token: sso, cookie: "sso" };
  };
}
