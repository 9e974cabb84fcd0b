/** A stored recovery code: its public lookup part and the hash of its secret part, never the code. */
export interface RecoveryCodeRow {
  id: string;
  userId: string;
  /** The code's public lookup part (unique per user). */
  lookup: string;
  /** Argon2id (PHC string) of the code's secret part. */
  codeHash: string;
  createdAt: number;
  /** When the code was used; null while it is still usable. */
  usedAt: number | null;
}

/** Persistence port for recovery codes. */
export interface RecoveryCodeStore {
  /** Deletes every code of `userId` and inserts `rows`, in one transaction (a regeneration). */
  replaceAll(userId: string, rows: readonly RecoveryCodeRow[]): Promise<void>;
  /** The unused code of `userId` with this lookup part, or null. */
  findUnused(userId: string, lookup: string): Promise<RecoveryCodeRow | null>;
  /**
   * Marks the code used if it is still unused (`… where id = :id and used_at
   * is null`): of concurrent calls for one code exactly one gets true.
   */
  markUsed(id: string, now: number): Promise<boolean>;
  /** How many unused codes `userId` has. */
  countUnused(userId: string): Promise<number>;
  /** Deletes every code of `userId`; returns how many. */
  removeAll(userId: string): Promise<number>;
}
