import { hmac, safeEqual } from "../crypto/tokens.js";

/**
 * Signed CSRF tokens (CSRF-03): HMAC-SHA256 of the session's token hash under
 * a key derived from SECRET_KEY, so a token is valid only for its session.
 */
export function csrfTokenFor(key: Buffer, sessionTokenHash: string): string {
  return hmac(key, `csrf:${sessionTokenHash}`);
}

/** Checks a presented CSRF token in constant time. */
export function isValidCsrfToken(key: Buffer, sessionTokenHash: string, presented: string): boolean {
  if (presented.length === 0 || presented.length > 128) return false;
  return safeEqual(csrfTokenFor(key, sessionTokenHash), presented);
}
