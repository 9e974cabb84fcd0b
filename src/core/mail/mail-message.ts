/** The kinds of mail Gatehouse sends. */
export const MAIL_KINDS = [
  "password_reset",
  "password_changed",
  "verify_email",
  "already_registered",
  "username_unavailable",
  "email_change_verify",
  "email_change_notice",
  "invitation",
  "set_password",
  "second_factor_added",
  "second_factor_removed",
  "second_factor_locked",
  "recovery_code_used",
  "second_factors_reset",
] as const;

/** One kind of mail. */
export type MailKind = (typeof MAIL_KINDS)[number];

/** A rendered mail: one recipient, a fixed subject, plain-text and HTML bodies. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * True when `value` may go into a mail header: no CR, LF or other control
 * characters (SMTP header injection, RST-10). Gatehouse puts only the
 * recipient address, the configured sender and fixed subjects in headers.
 */
export function isHeaderSafe(value: string): boolean {
  if (value.length === 0 || value.length > 998) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return false;
  }
  return true;
}
