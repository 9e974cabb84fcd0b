import type { FastifyReply, FastifyRequest } from "fastify";
import type { IssuedSession } from "../../core/sessions/session-service.js";
import type { Config } from "../../config/config.js";

/** The session cookie's name: `__Host-` prefixed when served over https (API.md). */
export function sessionCookieName(config: Pick<Config, "secure">): string {
  return config.secure ? "__Host-gatehouse_session" : "gatehouse_session";
}

/**
 * The session token from the `Cookie` header, or null. Only the one cookie
 * name is read (never a URL or form field, SESS-05), and a header carrying
 * that name twice is refused outright (cookie tossing from a sibling domain).
 */
export function readSessionToken(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (typeof header !== "string" || header.length === 0) return null;
  let value: string | null = null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    if (value !== null) return null;
    value = part.slice(eq + 1).trim();
  }
  return value;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Path=/, Secure on https; persistent only for "remember me". */
export function setSessionCookie(reply: FastifyReply, config: Config, issued: IssuedSession): void {
  const { session } = issued;
  reply.setCookie(sessionCookieName(config), issued.token, {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: config.secure,
    ...(session.remember ? { maxAge: Math.floor((session.expiresAt - session.createdAt) / 1000) } : {}),
  });
  reply.header("Cache-Control", "no-store");
}

/** Expires the session cookie in the browser. */
export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure });
  reply.header("Cache-Control", "no-store");
}
