import type { ErrorCode } from "../errors.js";
import { isCommonPassword } from "./common-passwords.js";

/** The password policy of docs/security-requirements.md#product-defaults; lengths are in Unicode code points. */
export interface PasswordPolicy {
  /** Minimum length, 8–64 (default 12). */
  minLength: number;
  /** Maximum length (256), enforced before any hashing. */
  maxLength: number;
  /** The product name, refused inside passwords. */
  productName: string;
}

/** The default policy. */
export const defaultPasswordPolicy: PasswordPolicy = { minLength: 12, maxLength: 256, productName: "gatehouse" };

/** Words a password must not contain. */
export interface PasswordContext {
  username?: string | null;
  email?: string | null;
}

/** Length in Unicode code points: an emoji counts as one (AUTH-01). */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

/** True when the password is over the hard maximum; cheap, run before hashing. */
export function isPasswordTooLong(password: string, policy: PasswordPolicy): boolean {
  // A code point is at most 2 UTF-16 units, so a longer string is over the limit without iterating it.
  if (password.length > policy.maxLength * 2) return true;
  return codePointLength(password) > policy.maxLength;
}

/**
 * Checks a new password against the policy, as a pipeline of small named
 * checks. Returns the first failing error code, or null when it is acceptable.
 * No composition rules (AUTH-03); the password is never altered (AUTH-04).
 */
export function checkNewPassword(password: string, context: PasswordContext, policy: PasswordPolicy): ErrorCode | null {
  if (isPasswordTooLong(password, policy)) return "password_too_long";
  if (codePointLength(password) < policy.minLength) return "password_too_short";
  if (containsContextWord(password, context, policy)) return "password_contextual";
  if (isCommonPassword(password)) return "password_common";
  return null;
}

function containsContextWord(password: string, context: PasswordContext, policy: PasswordPolicy): boolean {
  const lower = password.toLowerCase();
  const words = [policy.productName, context.username ?? ""];
  const email = context.email ?? "";
  const at = email.indexOf("@");
  if (at > 0) words.push(email.slice(0, at));
  return words.some((w) => {
    const word = w.trim().toLowerCase();
    return word.length >= 3 && lower.includes(word);
  });
}
