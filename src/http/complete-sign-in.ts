import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/config.js";
import type { IssuedSession } from "../core/sessions/session-service.js";
import { readSessionToken, sessionCookieName, setSessionCookie } from "./plugins/session-cookie.js";

/**
 * The HTTP half of every sign-in (the core half is src/core/sign-in): runs
 * the flow with the session token this browser presents (which the core
 * ends, SESS-04), then hands the new session to the browser in the cookie
 * (and the SSO cookie with COOKIE_DOMAIN). A flow that issued no session
 * (registration awaiting email verification) sets no cookie.
 */
export async function completeSignIn<T extends { issued?: IssuedSession | null }>(
  request: FastifyRequest,
  reply: FastifyReply,
  config: Config,
  flow: (replacing: string | null) => Promise<T>,
): Promise<T> {
  const result = await flow(readSessionToken(request, sessionCookieName(config)));
  if (result.issued) setSessionCookie(reply, config, result.issued);
  return result;
}
