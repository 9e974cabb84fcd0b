/** Persistence port for one-time secrets that are not sessions (the setup link). */
export interface OneTimeTokenStore {
  insert(token: { tokenHash: string; purpose: string; userId: string | null; createdAt: number; expiresAt: number }): Promise<void>;
  /**
   * Atomically deletes the unexpired token with this hash and purpose and
   * answers what it was (null when there was none): of two concurrent uses,
   * exactly one wins.
   */
  consume(tokenHash: string, purpose: string, now: number): Promise<{ userId: string | null; createdAt: number; expiresAt: number } | null>;
  /** Deletes every token of a purpose (a newer link replaces older ones). */
  deletePurpose(purpose: string): Promise<void>;
}
