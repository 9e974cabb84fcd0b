/** The algorithms an identity JWT may be signed with (`IDENTITY_JWT_ALG`). */
export const SIGNING_ALGS = ["ES256", "EdDSA"] as const;

/** One of {@link SIGNING_ALGS}. */
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** A signing key as stored: its private JWK only as a secret-box envelope. */
export interface StoredSigningKey {
  kid: string;
  alg: SigningAlg;
  /** The public JWK, as JSON text. */
  publicJwk: string;
  /** The private JWK, sealed with the secret box for `signing_keys|private_jwk|<kid>`. */
  privateEnvelope: string;
  /** `active`: signs new tokens; `retired`: published until its grace period ends, signs nothing. */
  state: "active" | "retired";
  createdAt: number;
  retiredAt: number | null;
}

/** Where signing keys live (the `signing_keys` table). */
export interface SigningKeyStore {
  /** Every stored key, oldest first. */
  list(): Promise<StoredSigningKey[]>;
  insert(key: StoredSigningKey): Promise<void>;
  /** Retires every active key except `keep` (at `at`); returns the kids it retired. */
  retireAllBut(keep: string, at: number): Promise<string[]>;
  /** Deletes one key at once; false when there was none. */
  remove(kid: string): Promise<boolean>;
  /** Deletes retired keys retired at or before `cutoff`; returns how many. */
  purgeRetiredBefore(cutoff: number): Promise<number>;
}
