import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Random } from "../random.js";

/**
 * The cross-subdomain SSO cookie (FWD-07) never carries the session token
 * itself: it carries the token sealed with AES-256-GCM under a key derived
 * from SECRET_KEY. Every host under the cookie domain receives this cookie,
 * so a sibling app that reads it learns nothing it could present as the
 * portal's host-only cookie (the admin API accepts only that one), and the
 * database's token hashes cannot be turned into an SSO cookie either.
 */
export interface SsoCookieSeal {
  /** The cookie value for a session token (base64url; fresh IV each time). */
  seal(token: string): string;
  /** The session token inside a cookie value, or null when it was not sealed by this server. */
  open(value: string): string | null;
}

const IV = 12;
const TAG = 16;

/** Builds the seal from a 32-byte key (`deriveKey(secretKey, "sso-cookie")`). */
export function createSsoCookieSeal(key: Buffer, random: Random): SsoCookieSeal {
  return {
    seal(token) {
      const iv = random.bytes(IV);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(value) {
      if (value.length > 512 || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
      const raw = Buffer.from(value, "base64url");
      if (raw.length <= IV + TAG) return null;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV));
        decipher.setAuthTag(raw.subarray(IV, IV + TAG));
        return Buffer.concat([decipher.update(raw.subarray(IV + TAG)), decipher.final()]).toString("utf8");
      } catch {
        return null;
      }
    },
  };
}
