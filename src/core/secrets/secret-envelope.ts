import { KEY_ID_PATTERN } from "./keyring.js";

/** The format version every envelope starts with. */
export const ENVELOPE_VERSION = "v1";

/** AES-256-GCM nonce bytes (96 bits, random per envelope). */
export const NONCE_BYTES = 12;

/** AES-256-GCM tag bytes. */
export const TAG_BYTES = 16;

/** The parts of an envelope `v1.<keyId>.<nonce>.<ciphertext‖tag>` (base64url, no padding). */
export interface EnvelopeParts {
  keyId: string;
  nonce: Buffer;
  /** The ciphertext followed by the 16-byte tag. */
  sealed: Buffer;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Writes the envelope text of `parts`. */
export function formatEnvelope(parts: EnvelopeParts): string {
  return `${ENVELOPE_VERSION}.${parts.keyId}.${parts.nonce.toString("base64url")}.${parts.sealed.toString("base64url")}`;
}

/**
 * Reads an envelope's parts, or returns why it is not one (never echoing the
 * text). Only the shape is checked here; authenticity is the cipher's job.
 */
export function parseEnvelope(text: string): EnvelopeParts | string {
  if (typeof text !== "string" || text.length > 1_000_000) return "not an envelope";
  const parts = text.split(".");
  if (parts.length !== 4) return "not an envelope (expected 4 dot-separated parts)";
  const [version, keyId, nonce, sealed] = parts as [string, string, string, string];
  if (version !== ENVELOPE_VERSION) return `unknown envelope version "${version.slice(0, 8)}"`;
  if (!KEY_ID_PATTERN.test(keyId)) return "malformed key id";
  if (!B64URL.test(nonce) || !B64URL.test(sealed)) return "malformed base64url";
  const nonceBytes = Buffer.from(nonce, "base64url");
  const sealedBytes = Buffer.from(sealed, "base64url");
  // Canonical encodings only, so that one envelope has exactly one text.
  if (nonceBytes.length !== NONCE_BYTES || nonceBytes.toString("base64url") !== nonce) return "malformed nonce";
  if (sealedBytes.length < TAG_BYTES || sealedBytes.toString("base64url") !== sealed) return "malformed ciphertext";
  return { keyId, nonce: nonceBytes, sealed: sealedBytes };
}

/** The key id an envelope names, or null when the text is not an envelope. */
export function envelopeKeyId(text: string): string | null {
  const parts = parseEnvelope(text);
  return typeof parts === "string" ? null : parts.keyId;
}
