import type { FastifyReply, FastifyRequest } from "fastify";
import type { IssuedSession } from "../../core/sessions/session-service.js";
import type { Config } from "../../config/config.js";
import { deriveKey } from "../../core/crypto/derive-key.js";
import { createSsoCookieSeal, type SsoCookieSeal } from "../../core/gateway/sso-cookie-seal.js";
import type { SecretBox } from "../../core/secrets/secret-box.js";

/** The cross-subdomain SSO cookie (only with COOKIE_DOMAIN): read by forward-auth alone, never by the portal's API or pages (FWD-07). */
export const SSO_COOKIE_NAME = "__Secure-gatehouse_session";

const seals = new WeakMap<Config, SsoCookieSeal>();

/**
 * Sets up the SSO cookie's seal for an app built on `config`: envelopes of the
 * keyring's box (the key derived from SECRET_KEY only opens cookies of earlier
 * versions). Called once by `buildApp`.
 */
export function useSsoSeal(config: Config, box: SecretBox): void {
  seals.set(config, createSsoCookieSeal(box, deriveKey(config.secretKey, "sso-cookie")));
}

function ssoSeal(config: Config): SsoCookieSeal {
  const seal = seals.get(config);
  if (!seal) throw new Error("the SSO cookie's seal is not set up (useSsoSeal)");
  return seal;
}

/** The session token carried by the SSO cookie, or null (no COOKIE_DOMAIN, no cookie, a duplicate, or not sealed by this server). */
export function readSsoToken(request: FastifyRequest, config: Config): string | null {
  if (config.cookieDomain === null) return null;
  const value = readSessionToken(request, SSO_COOKIE_NAME);
  return value === null ? null : ssoSeal(config).open(value);
}

/** The session cookie's name: `__Host-` prefixed when served over https (docs/api.md). */
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
  // With COOKIE_DOMAIN, a second cookie for the subdomains: the same session, its token sealed (see sso-cookie-seal.ts).
  if (config.cookieDomain !== null) {
    reply.setCookie(SSO_COOKIE_NAME, ssoSeal(config).seal(issued.token), {
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: true,
      domain: config.cookieDomain,
      ...(session.remember ? { maxAge: Math.floor((session.expiresAt - session.createdAt) / 1000) } : {}),
    });
  }
  reply.header("Cache-Control", "no-store");
}

/** Expires the session cookie in the browser. */
export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(sessionCookieName(config), { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure });
  if (config.cookieDomain !== null) reply.clearCookie(SSO_COOKIE_NAME, { httpOnly: true, sameSite: "lax", path: "/", secure: true, domain: config.cookieDomain });
  reply.header("Cache-Control", "no-store");
}
