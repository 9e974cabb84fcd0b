import type { NewOutboxMail } from "./outbox-store.js";

/** What a mailed token is for. */
export type EmailTokenPurpose = "password_reset" | "verify_email" | "email_change" | "set_password";

/** A mailed token as stored: only its SHA-256, bound to one user and one address. */
export interface EmailTokenRecord {
  tokenHash: string;
  purpose: EmailTokenPurpose;
  userId: string;
  /** The address the link was mailed to (display form and normalized). */
  email: string;
  emailNormalized: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Persistence port for mailed tokens and the account changes they unlock.
 * `issue` writes the token and its mail in one transaction (the durable
 * outbox): either both exist or neither does.
 */
export interface EmailTokenStore {
  /**
   * In one transaction: deletes the user's earlier tokens of the same purpose
   * (a newer link kills older ones), inserts `token`, and writes `mails` to
   * the outbox.
   */
  issue(token: EmailTokenRecord, mails: NewOutboxMail[]): Promise<void>;
  /** The unexpired token with this hash and one of these purposes, without using it up. */
  peek(tokenHash: string, purposes: readonly EmailTokenPurpose[], now: number): Promise<EmailTokenRecord | null>;
  /**
   * Atomically deletes the unexpired token with this hash and one of these
   * purposes, and returns it: of two concurrent uses, exactly one gets it.
   */
  consume(tokenHash: string, purposes: readonly EmailTokenPurpose[], now: number): Promise<EmailTokenRecord | null>;
  /** Deletes every token of a user (after a reset or an email change). */
  deleteForUser(userId: string, purposes?: readonly EmailTokenPurpose[]): Promise<void>;
  /** Marks the user's address verified if it still is `emailNormalized`; false otherwise. */
  markVerified(userId: string, emailNormalized: string, now: number): Promise<boolean>;
  /** Sets a new, verified address; `email_taken` when another account holds it. */
  changeEmail(userId: string, email: string, emailNormalized: string, now: number): Promise<"ok" | "email_taken" | "no_user">;
}
