/** A registered passkey, as stored: a public key and a counter, never a secret. */
export interface PasskeyRecord {
  id: string;
  userId: string;
  /** The credential id, base64url. */
  credentialId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's last sign counter (0 for authenticators that keep none, as synced passkeys do). */
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** What a WebAuthn challenge was issued for. */
export type ChallengePurpose = "register" | "second_factor" | "passwordless";

/** A ceremony's challenge, as stored. */
export interface ChallengeRecord {
  id: string;
  /** SHA-256 (hex) of the challenge's base64url text. */
  challengeHash: string;
  purpose: ChallengePurpose;
  /** The user it was issued for (null for a passwordless sign-in: nobody is known yet). */
  userId: string | null;
  /** SHA-256 (hex) of what asked for it: the session, the pending sign-in or the anonymous challenge cookie. */
  bindingHash: string;
  createdAt: number;
  expiresAt: number;
}

/** Persistence port for passkeys and their ceremonies' challenges. */
export interface WebAuthnStore {
  insertCredential(record: PasskeyRecord): Promise<void>;
  /** A user's passkeys, oldest first. */
  listByUser(userId: string): Promise<PasskeyRecord[]>;
  /** True when the user has at least one passkey. */
  hasAny(userId: string): Promise<boolean>;
  findByCredentialId(credentialId: string): Promise<PasskeyRecord | null>;
  /** Renames one of the user's passkeys; false when it is not theirs. */
  rename(userId: string, id: string, name: string): Promise<boolean>;
  /** Deletes one of the user's passkeys; false when it is not theirs. */
  delete(userId: string, id: string): Promise<boolean>;
  /**
   * Records a use: the new counter, the backup flag and the time, only if the
   * counter moved forward (or stays 0 for an authenticator without one), in
   * one conditional update. False when it did not (a concurrent use won).
   */
  recordUse(id: string, counter: number, backedUp: boolean, now: number): Promise<boolean>;
  insertChallenge(record: ChallengeRecord): Promise<void>;
  /**
   * Deletes and returns the challenge of `challengeHash` in one atomic step,
   * if it was issued for `purpose` to `bindingHash` and has not expired at
   * `now`: of concurrent callers, at most one gets it.
   */
  consumeChallenge(challengeHash: string, purpose: ChallengePurpose, bindingHash: string, now: number): Promise<ChallengeRecord | null>;
  /** Deletes every challenge expired at `now`; returns how many. */
  deleteExpiredChallenges(now: number): Promise<number>;
}
