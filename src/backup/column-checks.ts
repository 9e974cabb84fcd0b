import { identifyPasswordHash } from "../core/passwords/legacy/identify-hash.js";
import { hasUnsafeCharacter } from "../core/text/unsafe-characters.js";

/**
 * Small named checks for one column value each. A check returns the
 * problem (never the value, which may be a secret) or null.
 */
export type ColumnCheck = (value: unknown) => string | null;

/** Largest epoch-millisecond value accepted (9999-12-31T23:59:59.999Z). */
export const MAX_EPOCH_MS = 253_402_300_799_999;

/** A string of `min`..`max` characters without NUL (PostgreSQL text cannot hold NUL). */
export function text(min: number, max: number): ColumnCheck {
  return (v) => {
    if (typeof v !== "string") return "must be a string";
    if (v.length < min) return `must be at least ${min} characters`;
    if (v.length > max) return `must be at most ${max} characters`;
    if (v.includes("\u0000")) return "must not contain NUL";
    return null;
  };
}

/**
 * {@link text}, and no control, format, bidi or zero-width character: for
 * names and addresses that the CLI and the admin pages show (a username with
 * `ESC[8m` or U+200B could hide or disguise an account in a restore summary).
 */
export function visibleText(min: number, max: number): ColumnCheck {
  const base = text(min, max);
  return (v) => base(v) ?? (hasUnsafeCharacter(v as string) ? "must not contain control, format, bidi or zero-width characters" : null);
}

/** An epoch-millisecond integer between 0 and the year 9999. */
export const epochMs: ColumnCheck = (v) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= MAX_EPOCH_MS ? null : "must be epoch milliseconds (an integer)";

/** A boolean stored as 0 or 1. */
export const flag: ColumnCheck = (v) => (v === 0 || v === 1 ? null : "must be 0 or 1");

/** One of the given strings. */
export function oneOf(values: readonly string[]): ColumnCheck {
  return (v) => (typeof v === "string" && values.includes(v) ? null : `must be one of ${values.join(", ")}`);
}

/** Null, or a value passing `check`. */
export function nullable(check: ColumnCheck): ColumnCheck {
  return (v) => (v === null ? null : check(v));
}

/** Both checks in order. */
export function both(a: ColumnCheck, b: ColumnCheck): ColumnCheck {
  return (v) => a(v) ?? b(v);
}

/** 64 lowercase hex characters (a SHA-256 digest). */
export const sha256Hex: ColumnCheck = (v) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? null : "must be 64 lowercase hex characters");

const PHC_ARGON2ID = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$[A-Za-z0-9+/]{11,88}\$[A-Za-z0-9+/]{16,172}$/;

/**
 * An Argon2id PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with sane
 * cost bounds: at most 1 GiB and 64 passes, so an imported hash cannot make
 * every sign-in exhaust the server. Anything else (bcrypt, plaintext…) is refused.
 */
export const argon2idPhc: ColumnCheck = (v) => {
  const problem = "must be an Argon2id PHC string";
  if (typeof v !== "string" || v.length > 512) return problem;
  const m = PHC_ARGON2ID.exec(v);
  if (!m) return problem;
  const [memory, passes, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (lanes < 1 || lanes > 16 || passes < 1 || passes > 64 || memory < 8 * lanes || memory > 1_048_576) return "has Argon2id parameters out of bounds";
  return null;
};

/**
 * A users.password_hash: Gatehouse's Argon2id ({@link argon2idPhc}) or a hash
 * an import brought from another app that sign-in verifies and upgrades
 * (docs/legacy-hashes.md), within the same cost bounds as the import's.
 */
export const storedPasswordHash: ColumnCheck = (v) => {
  if (argon2idPhc(v) === null) return null;
  if (typeof v === "string" && identifyPasswordHash(v).ok) return null;
  return "must be an Argon2id PHC string or a recognised imported hash within its cost bounds";
};

/** Text holding JSON whose top level passes `shape`, with no prototype-polluting keys. */
export function jsonText(max: number, shape: (parsed: unknown) => boolean, parse: (text: string) => unknown): ColumnCheck {
  return (v) => {
    const problem = text(0, max)(v);
    if (problem) return problem;
    try {
      return shape(parse(v as string)) ? null : "has an unexpected JSON shape";
    } catch {
      return "must hold valid JSON";
    }
  };
}

/** True for a plain JSON object (not an array, not null). */
export const isJsonObject = (v: unknown): boolean => typeof v === "object" && v !== null && !Array.isArray(v);

/** True for an array of strings. */
export const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === "string");
