/** What a provider round trip was started for. */
export type OAuthIntent =
  /** Sign in (or, when registration allows, create an account). */
  | "login"
  /** Link the provider to the signed-in account (from the account page, after a recent re-authentication). */
  | "link"
  /** Re-authenticate the signed-in account through a provider it is linked to (the sudo window). */
  | "reauth";

/**
 * One provider round trip in flight (OIDC-02): single use, at most 10 minutes,
 * bound to the browser that started it. Only hashes of the state and of the
 * browser's binding cookie are kept; the nonce and the PKCE verifier are kept
 * as made (they prove nothing without the state and the browser's cookie, and
 * die with the row).
 */
export interface OAuthTransaction {
  id: string;
  /** SHA-256 (hex) of the `state` parameter: the lookup key. */
  stateHash: string;
  /** SHA-256 (hex) of the random value in the browser's transaction cookie. */
  bindingHash: string;
  provider: string;
  intent: OAuthIntent;
  nonce: string;
  codeVerifier: string;
  /** The validated return target, or null for the default. */
  returnTo: string | null;
  /** For `link` and `reauth`: the account, and the SHA-256 of the session that started it. */
  userId: string | null;
  sessionHash: string | null;
  /** For a sign-up with an invitation: the SHA-256 of the invitation token (the token itself is never stored). */
  invitationHash: string | null;
  /** "Remember me", carried to the session the round trip ends in. */
  remember: boolean;
  createdAt: number;
  expiresAt: number;
}

/** Persistence port for provider round trips in flight. */
export interface OAuthTransactionStore {
  insert(transaction: OAuthTransaction): Promise<void>;
  /**
   * Deletes and returns the transaction of `stateHash` in one atomic step, if
   * it has not expired at `now`: of concurrent callbacks, at most one gets it
   * (a replayed state finds nothing).
   */
  consume(stateHash: string, now: number): Promise<OAuthTransaction | null>;
  /** Deletes every transaction expired at `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}
