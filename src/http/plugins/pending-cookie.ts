import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../config/config.js";
import type { IssuedPendingSignIn } from "../../core/sign-in/pending-sign-in.js";
import { readSessionToken } from "./session-cookie.js";

/**
 * The pending sign-in cookie's name: `__Host-` prefixed over https. It is
 * never the session cookie, and nothing but `POST /api/auth/mfa/verify`
 * (and the sign-in pages) reads it: a pending sign-in is not a session.
 */
export function pendingCookieName(config: Pick<Config, "secure">): string {
  return config.secure ? "__Host-gatehouse_pending" : "gatehouse_pending";
}

/** The pending sign-in token from the `Cookie` header, or null (a duplicated cookie counts as none). */
export function readPendingToken(request: FastifyRequest, config: Pick<Config, "secure">): string | null {
  return readSessionToken(request, pendingCookieName(config));
}

/** Sets the pending cookie: HttpOnly, SameSite=Lax, Path=/, Secure on https, gone when the pending sign-in expires. */
export function setPendingCookie(reply: FastifyReply, config: Pick<Config, "secure">, pending: IssuedPendingSignIn): void {
  reply.setCookie(pendingCookieName(config), pending.token, {
    httpOnly: true,
    sameSite: "lax",
    path: "/",
    secure: config.secure,
    maxAge: Math.floor((pending.expiresAt - pending.createdAt) / 1000),
  });
  reply.header("Cache-Control", "no-store");
}

/** Expires the pending cookie in the browser. */
export function clearPendingCookie(reply: FastifyReply, config: Pick<Config, "secure">): void {
  reply.clearCookie(pendingCookieName(config), { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure });
  reply.header("Cache-Control", "no-store");
}
