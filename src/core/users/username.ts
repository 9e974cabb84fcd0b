import { hasUnsafeCharacter, trimAsciiSpace } from "../text/unsafe-characters.js";

/** Shortest and longest allowed username, in characters (after trimming). */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 64;

/**
 * The username charset: ASCII letters and digits, `.`, `_` and `-`; it must
 * start and end with a letter or digit. No `@`, so a login name containing
 * `@` is always an email address. Checked without a regular expression.
 * Control, format, bidi and zero-width characters are refused by name
 * (finding: a name that hides text on a terminal, or impersonates another).
 */
export function usernameProblem(raw: string): string | null {
  // Before trim(), which would silently drop a U+FEFF or U+2028 at either end and keep the name typed with it.
  if (hasUnsafeCharacter(trimAsciiSpace(raw))) return "may contain only letters, digits, '.', '_' and '-' (no control, format, bidi or zero-width characters)";
  const name = raw.trim();
  if (name.length < USERNAME_MIN) return `must be at least ${USERNAME_MIN} characters`;
  if (name.length > USERNAME_MAX) return `must be at most ${USERNAME_MAX} characters`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    const punct = c === 46 || c === 95 || c === 45;
    if (!alnum && !punct) return "may contain only letters, digits, '.', '_' and '-'";
    if (!alnum && (i === 0 || i === name.length - 1)) return "must start and end with a letter or digit";
  }
  return null;
}

/** The trimmed username as the user typed it (display form). */
export function cleanUsername(raw: string): string {
  return raw.trim();
}

/** The form usernames are compared in: trimmed and lower-cased. */
export function normalizeUsername(raw: string): string {
  return raw.trim().toLowerCase();
}
