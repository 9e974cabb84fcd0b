import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../../config/config.js";
import { readSessionToken } from "./session-cookie.js";

/**
 * The anonymous challenge cookie of a passwordless passkey sign-in: binds the
 * challenge `POST /api/auth/webauthn/options` issued to the browser that asked
 * for it. `__Host-` prefixed over https; it grants nothing by itself.
 */
export function webauthnCookieName(config: Pick<Config, "secure">): string {
  return config.secure ? "__Host-gatehouse_webauthn" : "gatehouse_webauthn";
}

/** The challenge cookie's token, or null. */
export function readWebauthnToken(request: FastifyRequest, config: Pick<Config, "secure">): string | null {
  return readSessionToken(request, webauthnCookieName(config));
}

/** Sets the challenge cookie: HttpOnly, SameSite=Strict, Path=/, Secure on https, gone with its challenge. */
export function setWebauthnCookie(reply: FastifyReply, config: Pick<Config, "secure">, token: string, maxAgeMs: number): void {
  reply.setCookie(webauthnCookieName(config), token, { httpOnly: true, sameSite: "strict", path: "/", secure: config.secure, maxAge: Math.floor(maxAgeMs / 1000) });
  reply.header("Cache-Control", "no-store");
}

/** Expires the challenge cookie. */
export function clearWebauthnCookie(reply: FastifyReply, config: Pick<Config, "secure">): void {
  reply.clearCookie(webauthnCookieName(config), { httpOnly: true, sameSite: "strict", path: "/", secure: config.secure });
}
