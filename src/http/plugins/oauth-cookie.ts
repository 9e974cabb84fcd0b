import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../config/config.js";
import { readSessionToken } from "./session-cookie.js";

/**
 * The cookie that binds a provider round trip to the browser that started
 * it (OIDC-02): a random value whose SHA-256 the round trip keeps. HttpOnly,
 * SameSite=Lax (the provider's redirect back is a top-level navigation from
 * another site), `__Host-` prefixed over https, gone after 10 minutes.
 */
export function oauthCookieName(config: Pick<Config, "secure">): string {
  return config.secure ? "__Host-gatehouse_oauth" : "gatehouse_oauth";
}

/** The transaction cookie's value, or null. */
export function readOauthBinding(request: FastifyRequest, config: Pick<Config, "secure">): string | null {
  return readSessionToken(request, oauthCookieName(config));
}

/** Sets the transaction cookie. */
export function setOauthCookie(reply: FastifyReply, config: Pick<Config, "secure">, binding: string, maxAgeMs: number): void {
  reply.setCookie(oauthCookieName(config), binding, { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure, maxAge: Math.floor(maxAgeMs / 1000) });
  reply.header("Cache-Control", "no-store");
}

/** Expires the transaction cookie (after every callback, right or wrong). */
export function clearOauthCookie(reply: FastifyReply, config: Pick<Config, "secure">): void {
  reply.clearCookie(oauthCookieName(config), { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure });
}
