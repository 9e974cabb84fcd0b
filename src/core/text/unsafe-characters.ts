/**
 * Characters that change how text is shown rather than what it says: Unicode
 * control (Cc: C0, DEL, C1 — ESC starts a terminal escape sequence) and
 * format characters (Cf: bidi embeddings, overrides and isolates U+202A–202E,
 * U+2066–2069, marks U+200E/U+200F/U+061C, zero-width U+200B–200D, U+2060,
 * U+FEFF, soft hyphen…), plus the line and paragraph separators U+2028/U+2029.
 * One of them in a name can hide text on a terminal, reorder it, or make two
 * different names look identical (impersonation).
 */
const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** True when `value` holds a control, format (bidi, zero-width) or line-separator character. */
export function hasUnsafeCharacter(value: string): boolean {
  return UNSAFE.test(value);
}

/**
 * `value` with every character of {@link hasUnsafeCharacter} shown as a
 * visible `\u{…}` escape: safe to print on a terminal or in a log line.
 * Idempotent (escaping twice changes nothing), so layers may each escape.
 */
export function escapeUnsafeCharacters(value: string): string {
  return value.replace(UNSAFE_ALL, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

const isAsciiSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * `value` without leading and trailing ASCII spaces, tabs, CR and LF (what a
 * paste or a form adds), and nothing else: unlike `String.prototype.trim`, a
 * U+FEFF or U+2028 at either end stays, for {@link hasUnsafeCharacter} to see.
 */
export function trimAsciiSpace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isAsciiSpace(value.charCodeAt(start))) start++;
  while (end > start && isAsciiSpace(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}
