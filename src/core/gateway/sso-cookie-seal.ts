import { createDecipheriv } from "node:crypto";
import { isGatehouseError } from "../errors.js";
import type { SecretBox, SecretContext } from "../secrets/secret-box.js";

/**
 * The cross-subdomain SSO cookie (FWD-07) never carries the session token
 * itself: it carries the token sealed as a {@link SecretBox} envelope
 * (AES-256-GCM under the keyring's active key, its key id in the value, so a
 * rotated key keeps opening cookies sealed before — CRY-02). Every host under
 * the cookie domain receives this cookie, so a sibling app that reads it
 * learns nothing it could present as the portal's host-only cookie (the
 * admin API accepts only that one), and the database's token hashes cannot
 * be turned into an SSO cookie either.
 */
export interface SsoCookieSeal {
  /** The cookie value for a session token (an envelope; fresh nonce each time). */
  seal(token: string): string;
  /** The session token inside a cookie value, or null when it was not sealed by this server. */
  open(value: string): string | null;
}

/** What the envelope is bound to: the SSO cookie, so no other stored envelope opens as one. */
const CONTEXT: SecretContext = { table: "sso_cookie", column: "session_token", id: "sso" };
const IV = 12;
const TAG = 16;

/**
 * Builds the seal over the keyring's box. `legacyKey` (derived from
 * SECRET_KEY, purpose `sso-cookie`) still opens a cookie set by a version
 * before the keyring (plain base64url, no dots) until it expires.
 */
export function createSsoCookieSeal(box: SecretBox, legacyKey: Buffer | null = null): SsoCookieSeal {
  return {
    seal: (token) => box.seal(token, CONTEXT),
    open(value) {
      if (value.length > 512 || !/^[A-Za-z0-9_.-]+$/.test(value)) return null;
      if (!value.includes(".")) return legacyKey === null ? null : openLegacy(legacyKey, value);
      try {
        return box.open(value, CONTEXT);
      } catch (err) {
        if (isGatehouseError(err, "secret_unreadable")) return null;
        throw err;
      }
    },
  };
}

function openLegacy(key: Buffer, value: string): string | null {
  const raw = Buffer.from(value, "base64url");
  if (raw.length <= IV + TAG) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV));
    decipher.setAuthTag(raw.subarray(IV, IV + TAG));
    return Buffer.concat([decipher.update(raw.subarray(IV + TAG)), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}
