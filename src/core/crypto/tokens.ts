import { createHash, createHmac, hash, timingSafeEqual } from "node:crypto";
import type { Random } from "../random.js";

/** Bytes of entropy in every session, reset and API token (256 bits). */
export const TOKEN_BYTES = 32;

/** A new opaque token: 256 random bits, base64url (43 characters). */
export function generateToken(random: Random): string {
  return random.bytes(TOKEN_BYTES).toString("base64url");
}

/** SHA-256 of a token, hex encoded: the only form a token is stored in. */
export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

/** HMAC-SHA256 of `message` under `key`, base64url encoded. */
export function hmac(key: Buffer, message: string): string {
  return createHmac("sha256", key).update(message, "utf8").digest("base64url");
}

/**
 * Compares two secrets in constant time. Both sides are hashed first so the
 * comparison is over equal-length digests and leaks neither length nor prefix.
 */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash("sha256").update(a, "utf8").digest();
  const db = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(da, db);
}

/** True when `value` looks like a token we issued: 43 base64url characters. */
export function isWellFormedToken(value: string): boolean {
  if (value.length !== 43) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}
