/** A stored per-user secret: only its envelope, never the plaintext. */
export interface UserSecretRow {
  /** Surrogate key (walk order for rotation and backups). */
  id: string;
  userId: string;
  /** What the secret is for (`totp`, …): lower-case letters, digits, `_` and `-`. */
  kind: string;
  /** The {@link SecretBox} envelope, bound to `user_secrets|secret_envelope|<userId>/<kind>`. */
  envelope: string;
  createdAt: number;
  updatedAt: number;
}

/** Persistence port for per-user secrets (one per user and kind). */
export interface UserSecretStore {
  /** Inserts, or replaces the envelope of the existing (user, kind) row; returns the stored row. */
  put(row: UserSecretRow): Promise<UserSecretRow>;
  find(userId: string, kind: string): Promise<UserSecretRow | null>;
  /** Replaces the envelope only if it is still `expected` (a concurrent write wins); true when replaced. */
  replaceEnvelope(userId: string, kind: string, expected: string, next: string, now: number): Promise<boolean>;
  /** True when a row was deleted. */
  remove(userId: string, kind: string): Promise<boolean>;
}
