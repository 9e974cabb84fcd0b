import type { Random } from "../../random.js";

/** How many codes a user gets at a time (MFA-05: 10). */
export const RECOVERY_CODE_COUNT = 10;
/** Characters of the public lookup part (20 bits: finds the row, proves nothing). */
export const LOOKUP_CHARS = 4;
/** Characters of the secret part: 16 × 5 = 80 bits from the CSPRNG (MFA-05: at least 80). */
export const SECRET_CHARS = 16;
/** Bits of secret in every code. */
export const RECOVERY_CODE_SECRET_BITS = SECRET_CHARS * 5;

/** Crockford's base32, lower case: no i, l, o or u, so a code read aloud or retyped is unambiguous. */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const TOTAL = LOOKUP_CHARS + SECRET_CHARS;
/** Longest input considered (a pasted code with generous separators); longer is simply wrong. */
const MAX_INPUT = 64;

/** One freshly generated recovery code. */
export interface GeneratedRecoveryCode {
  /** The public lookup part (stored as is). */
  lookup: string;
  /** The secret part (only its hash is stored). */
  secret: string;
  /** The code as shown to the user once: five groups of four, e.g. `abcd-efgh-jkmn-pqrs-tvwx`. */
  display: string;
}

/** `chars` base32 characters from the leading bits of `bytes`. */
function encode(bytes: Buffer, chars: number): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  return out;
}

/** Generates one code from `random` (a CSPRNG: 20 bits of lookup, 80 bits of secret). */
export function generateRecoveryCode(random: Random): GeneratedRecoveryCode {
  const lookup = encode(random.bytes(Math.ceil((LOOKUP_CHARS * 5) / 8)), LOOKUP_CHARS);
  const secret = encode(random.bytes((SECRET_CHARS * 5) / 8), SECRET_CHARS);
  const display = (lookup + secret).match(/.{4}/g)!.join("-");
  return { lookup, secret, display };
}

/**
 * Reads a code as a user types it: case-insensitive, with or without dashes
 * and spaces; `i`/`l` read as `1` and `o` as `0`. Null when it cannot be a
 * code (never a throw).
 */
export function parseRecoveryCode(input: string): { lookup: string; secret: string } | null {
  if (input.length > MAX_INPUT) return null;
  const compact = input
    .toLowerCase()
    .replace(/[\s-]+/g, "")
    .replace(/[il]/g, "1")
    .replace(/o/g, "0");
  if (compact.length !== TOTAL) return null;
  for (const c of compact) if (!ALPHABET.includes(c)) return null;
  return { lookup: compact.slice(0, LOOKUP_CHARS), secret: compact.slice(LOOKUP_CHARS) };
}
