import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";
import type { IssuedSession } from "../core/sessions/session-service.js";
import type { IssuedPendingSignIn } from "../core/sign-in/pending-sign-in.js";
import { clearPendingCookie, readPendingToken, setPendingCookie } from "./plugins/pending-cookie.js";
import { clearSessionCookie, readSessionToken, sessionCookieName, setSessionCookie } from "./plugins/session-cookie.js";

/**
 * The HTTP half of every sign-in (the core half is src/core/sign-in): runs
 * the flow with the session token this browser presents (which the core
 * ends, SESS-04), then hands the outcome to the browser. A new session goes
 * in the session cookie (and the SSO cookie with COOKIE_DOMAIN), and any
 * pending cookie is dropped; a pending sign-in (a second factor is needed)
 * goes in the pending cookie alone, and the ended session's cookie is
 * cleared. A flow that issued neither (registration awaiting email
 * verification) sets no cookie.
 */
export async function completeSignIn<T extends { issued?: IssuedSession | null; pending?: IssuedPendingSignIn }>(
  request: FastifyRequest,
  reply: FastifyReply,
  config: Config,
  flow: (replacing: string | null) => Promise<T>,
): Promise<T> {
  const presented = readSessionToken(request, sessionCookieName(config));
  const result = await flow(presented);
  if (result.pending) {
    if (presented !== null) clearSessionCookie(reply, config);
    setPendingCookie(reply, config, result.pending);
  } else if (result.issued) {
    setSessionCookie(reply, config, result.issued);
    if (readPendingToken(request, config) !== null) clearPendingCookie(reply, config);
  }
  return result;
}
