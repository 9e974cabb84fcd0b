import { hasUnsafeCharacter, trimAsciiSpace } from "../text/unsafe-characters.js";

/** Longest allowed email address (RST-10). */
export const EMAIL_MAX = 255;

/**
 * A linear, regex-free plausibility check of an email address (RST-10):
 * one `@`, a non-empty local part, a `.` inside the domain, no whitespace or
 * control characters (so no CR/LF header injection), no format, bidi or
 * zero-width character (an address is shown to admins and printed by the
 * CLI). Returns the problem or null.
 */
export function emailProblem(raw: string): string | null {
  if (hasUnsafeCharacter(trimAsciiSpace(raw))) return "must not contain spaces or control characters (nor format, bidi or zero-width ones)";
  const email = raw.trim();
  if (email.length === 0) return "must not be empty";
  if (email.length > EMAIL_MAX) return `must be at most ${EMAIL_MAX} characters`;
  let at = -1;
  for (let i = 0; i < email.length; i++) {
    const c = email.charCodeAt(i);
    if (c <= 32 || c === 127) return "must not contain spaces or control characters";
    if (c === 64) {
      if (at !== -1) return "must contain exactly one '@'";
      at = i;
    }
  }
  if (at <= 0) return "must have a part before '@'";
  const domain = email.slice(at + 1);
  const dot = domain.indexOf(".");
  if (dot <= 0 || dot === domain.length - 1 || domain.endsWith(".")) return "must have a domain such as example.com";
  return null;
}

/** The trimmed address (display form). */
export function cleanEmail(raw: string): string {
  return raw.trim();
}

/**
 * The form addresses are compared in: trimmed, lower-cased, and without a
 * trailing dot on the domain (`admin@example.test.` is the same mailbox, and
 * must share its brute-force counter).
 */
export function normalizeEmail(raw: string): string {
  let email = raw.trim().toLowerCase();
  while (email.endsWith(".")) email = email.slice(0, -1);
  return email;
}
