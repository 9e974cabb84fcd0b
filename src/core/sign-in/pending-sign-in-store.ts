import type { AuthMethod } from "../sessions/assurance.js";

/** A sign-in waiting for its second factor, as stored: only the SHA-256 of its token, never the token. */
export interface PendingSignInRecord {
  /** SHA-256 of the pending cookie's token, hex. */
  tokenHash: string;
  userId: string;
  /** The methods proved so far (the first factor). */
  amr: readonly AuthMethod[];
  /** "Remember me" was asked with the first factor. */
  remember: boolean;
  ip: string;
  userAgent: string;
  createdAt: number;
  expiresAt: number;
  /** Wrong second factors presented so far. */
  failedAttempts: number;
}

/** Persistence port for pending sign-ins, shaped by use. */
export interface PendingSignInStore {
  insert(pending: PendingSignInRecord): Promise<void>;
  /** The pending sign-in of a token hash if it has not expired at `now`, else null. Reading does not use it up. */
  find(tokenHash: string, now: number): Promise<PendingSignInRecord | null>;
  /**
   * Deletes the pending sign-in and returns it, in one atomic step, if it has
   * not expired at `now`: of concurrent callers, exactly one gets it.
   */
  consume(tokenHash: string, now: number): Promise<PendingSignInRecord | null>;
  /** Counts a wrong second factor; the pending sign-in is deleted once `maxFailures` are counted. */
  recordFailure(tokenHash: string, maxFailures: number): Promise<void>;
  /** Deletes one pending sign-in. */
  delete(tokenHash: string): Promise<void>;
  /** Deletes every pending sign-in expired at `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}
