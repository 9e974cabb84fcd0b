import type { PasswordHasher } from "../../src/core/passwords/password-hasher.js";

/** How often each hasher operation ran. */
export interface HashCalls {
  hash: number;
  verify: number;
  verifyDummy: number;
}

/**
 * Wraps a real {@link PasswordHasher} and counts its calls, so a suite can
 * prove that a request was refused before any Argon2 work, or that an
 * unknown user still costs one verification. Injected through
 * the harness (`startHarness(backend, env, clock, { hasher })`).
 */
export function countingHasher(inner: PasswordHasher, calls: HashCalls): PasswordHasher {
  return {
    async hash(password) {
      calls.hash += 1;
      return inner.hash(password);
    },
    async verify(phc, password) {
      calls.verify += 1;
      return inner.verify(phc, password);
    },
    needsRehash: (phc) => inner.needsRehash(phc),
    async verifyDummy(password) {
      calls.verifyDummy += 1;
      return inner.verifyDummy(password);
    },
  };
}

/** Resets all counters to zero. */
export function resetCalls(calls: HashCalls): void {
  calls.hash = 0;
  calls.verify = 0;
  calls.verifyDummy = 0;
}
