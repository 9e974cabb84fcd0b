import { GatehouseError } from "../errors.js";

/** A vault secret's name: 1 to 64 lower-case letters, digits, `_` and `-`, starting with a letter or digit. */
export const SECRET_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Largest secret value, bytes (values are ASCII, so characters). */
export const MAX_SECRET_BYTES = 8192;

/** Values shorter than this show no prefix at all. */
export const PREFIX_MIN_LENGTH = 16;

/** Characters of a value shown back as its prefix (values of {@link PREFIX_MIN_LENGTH} or more characters). */
export const PREFIX_LENGTH = 4;

/** Visible ASCII and the space: header-safe (no CR, LF, NUL or other control character, no non-ASCII). */
const HEADER_SAFE = /^[\x20-\x7e]+$/;

/** True for a valid secret name. */
export function isSecretName(name: unknown): name is string {
  return typeof name === "string" && SECRET_NAME.test(name);
}

/** Throws 400 `invalid_request` (field `name`) unless `name` is a valid secret name. */
export function checkSecretName(name: unknown): string {
  if (!isSecretName(name)) throw new GatehouseError("invalid_request", { fields: ["name"] });
  return name;
}

/**
 * Throws 400 `invalid_request` (field `value`) unless `value` can be sent in a
 * request header: 1 to {@link MAX_SECRET_BYTES} visible ASCII characters or
 * spaces, not starting or ending with a space. The value is never echoed.
 */
export function checkSecretValue(value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_SECRET_BYTES || !HEADER_SAFE.test(value) || value.trim() !== value) {
    throw new GatehouseError("invalid_request", { fields: ["value"] });
  }
  return value;
}

/** What is shown of a stored value: its first 4 characters when it has 16 or more, else nothing. */
export function prefixOf(value: string): string | null {
  return value.length >= PREFIX_MIN_LENGTH ? value.slice(0, PREFIX_LENGTH) : null;
}
