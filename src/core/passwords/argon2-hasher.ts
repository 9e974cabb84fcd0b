import { hash, verify, type Algorithm } from "@node-rs/argon2";

/** `Algorithm.Argon2id` (an ambient const enum, so spelled as its value). */
const ARGON2ID = 2 as Algorithm;
import type { PasswordHasher } from "./password-hasher.js";

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. */
  memoryCost: number;
  /** Iterations. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/** The OWASP/ASVS row of PRODUCT.md: m=19456 KiB, t=2, p=1. */
export const defaultArgon2Params: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * A {@link PasswordHasher} using Argon2id from `@node-rs/argon2` (16-byte
 * salt, 32-byte tag, PHC strings). Verification runs on the libuv pool.
 */
export function createArgon2Hasher(params: Argon2Params = defaultArgon2Params): PasswordHasher {
  const options = { algorithm: ARGON2ID, outputLen: 32, ...params };
  let dummy: Promise<string> | null = null;
  const current = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  return {
    hash: (password) => hash(password, options),
    async verify(phc, password) {
      if (!phc.startsWith("$argon2")) return false;
      try {
        return await verify(phc, password);
      } catch {
        return false;
      }
    },
    needsRehash: (phc) => !phc.startsWith(current),
    async verifyDummy(password) {
      dummy ??= hash("gatehouse-dummy-password-for-timing", options);
      await verify(await dummy, password).catch(() => false);
    },
  };
}
