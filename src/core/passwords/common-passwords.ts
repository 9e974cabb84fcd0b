import { createRequire } from "node:module";

let cache: Set<string> | null = null;

/**
 * The bundled common-password list: the 49,000-entry `passwords-common`
 * dictionary of the maintained `@zxcvbn-ts/language-common` package, lower-cased.
 * Loaded once, on first use: the package itself is only required then (its
 * dictionaries are ~2.5 MB of heap that an idle server does not need,
 * docs/performance.md).
 */
export function commonPasswords(): ReadonlySet<string> {
  if (cache === null) {
    const { dictionary } = createRequire(import.meta.url)("@zxcvbn-ts/language-common") as typeof import("@zxcvbn-ts/language-common");
    const list = (dictionary as Record<string, string[]>)["passwords-common"] ?? [];
    cache = new Set(list.map((p) => p.toLowerCase()));
  }
  return cache;
}

/**
 * True when the password is on the list, compared case-insensitively, and
 * also when it is a listed password repeated (e.g. "passwordpassword") or
 * padded with digits/punctuation at the end ("qwerty123456!").
 */
export function isCommonPassword(password: string): boolean {
  const list = commonPasswords();
  const lower = password.toLowerCase();
  if (list.has(lower)) return true;
  for (let size = 1; size <= lower.length / 2; size++) {
    if (lower.length % size !== 0) continue;
    const unit = lower.slice(0, size);
    if (unit.repeat(lower.length / size) === lower && (size < 4 || list.has(unit))) return true;
  }
  let end = lower.length;
  while (end > 0 && !isLetter(lower.charCodeAt(end - 1))) end--;
  if (end >= 4 && end < lower.length && list.has(lower.slice(0, end))) return true;
  return isRepeatedListWord(lettersOnly(lower), list);
}

/** The letters of `value` (drops digits, punctuation and spaces: "letmein!letmein!" → "letmeinletmein"). */
function lettersOnly(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) if (isLetter(value.charCodeAt(i))) out += value[i];
  return out;
}

/** True when `letters` is a listed word of 4+ letters, once or repeated. */
function isRepeatedListWord(letters: string, list: ReadonlySet<string>): boolean {
  for (let size = 4; size <= letters.length; size++) {
    if (letters.length % size !== 0) continue;
    const unit = letters.slice(0, size);
    if (list.has(unit) && unit.repeat(letters.length / size) === letters) return true;
  }
  return false;
}

function isLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}
