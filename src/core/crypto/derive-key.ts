import { hkdfSync } from "node:crypto";

/**
 * Derives a 32-byte purpose-bound subkey from the master `SECRET_KEY` with
 * HKDF-SHA256, so no two features ever share key material.
 */
export function deriveKey(secretKey: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secretKey, "utf8"), Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}
