import { GatehouseError } from "../errors.js";
import type { Role } from "./user.js";

/** A position in the admin user list: the last (or first) row of a page, newest first. */
export interface UserListPosition {
  createdAt: number;
  id: string;
}

/**
 * Filters of the admin user list. `q` is a prefix of the normalized username
 * or email (indexed: a range scan, never a full-table `LIKE '%…%'`).
 */
export interface UserListFilter {
  q?: string;
  role?: Role;
  blocked?: boolean;
}

/**
 * A keyset query: newest first (`created_at desc, id desc`). With `after`,
 * the rows older than that position; with `before`, the rows newer than it
 * (still returned newest first). At most `limit` rows.
 */
export interface UserListQuery extends UserListFilter {
  limit: number;
  after?: UserListPosition;
  before?: UserListPosition;
}

/** Encodes a list position as an opaque URL-safe cursor. */
export function encodeUserCursor(position: UserListPosition): string {
  return Buffer.from(`${position.createdAt}:${position.id}`, "utf8").toString("base64url");
}

/** Decodes a cursor from {@link encodeUserCursor}, or throws 400 `invalid_request`. */
export function decodeUserCursor(cursor: string, field = "cursor"): UserListPosition {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const colon = text.indexOf(":");
  const createdAt = Number(text.slice(0, colon));
  const id = text.slice(colon + 1);
  if (colon <= 0 || !Number.isSafeInteger(createdAt) || id.length === 0 || id.length > 64) {
    throw new GatehouseError("invalid_request", { fields: [field] });
  }
  return { createdAt, id };
}

/**
 * The exclusive upper bound of the strings starting with `prefix` in code
 * point (byte) order: the prefix with its last code point incremented. Null
 * when no such bound exists (an empty prefix, or one ending in U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = [...prefix];
  const last = points.pop();
  if (last === undefined) return null;
  let code = (last.codePointAt(0) ?? 0) + 1;
  if (code >= 0xd800 && code <= 0xdfff) code = 0xe000;
  if (code > 0x10ffff) return null;
  return points.join("") + String.fromCodePoint(code);
}
