/** Hashes and verifies passwords; the core depends on this port, not on a library. */
export interface PasswordHasher {
  /** A PHC-format hash with a fresh random salt. */
  hash(password: string): Promise<string>;
  /** True when `password` matches `phc`; false (never a throw) for malformed hashes. */
  verify(phc: string, password: string): Promise<boolean>;
  /** True when `phc` was made with other parameters than the current ones. */
  needsRehash(phc: string): boolean;
  /** Verifies against a fixed dummy hash, so unknown users take as long as known ones (AUTH-09). */
  verifyDummy(password: string): Promise<void>;
}
