import { createRequire } from "node:module";
import type { Algorithm } from "@node-rs/argon2";
import { createArgon2Threads } from "./argon2-threads.js";

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

/**
 * The library in this thread, loaded on first use: with hashing threads
 * (how the server runs) only they load it, and the main thread never maps
 * the native module (docs/performance.md).
 */
let library: typeof import("@node-rs/argon2") | null = null;
const argon2 = (): typeof import("@node-rs/argon2") => (library ??= createRequire(import.meta.url)("@node-rs/argon2") as typeof import("@node-rs/argon2"));

/** The OWASP/ASVS row of docs/security-requirements.md#product-defaults: m=19456 KiB, t=2, p=1. */
export const defaultArgon2Params: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * A {@link PasswordHasher} using Argon2id from `@node-rs/argon2` (16-byte
 * salt, 32-byte tag, PHC strings). With `threads`, hashing runs on that many
 * dedicated low-priority threads (argon2-threads.ts), so a login flood cannot
 * take CPU from the event loop; without, on the libuv pool.
 */
export function createArgon2Hasher(params: Argon2Params = defaultArgon2Params, options: { threads?: number } = {}): PasswordHasher & { close(): Promise<void> } {
  const hashOptions = { algorithm: ARGON2ID, outputLen: 32, ...params };
  const pool = options.threads === undefined ? null : createArgon2Threads(options.threads);
  const doHash = (password: string): Promise<string> =>
    pool ? (pool.run({ op: "hash", password, options: hashOptions }) as Promise<string>) : argon2().hash(password, hashOptions);
  const doVerify = async (phc: string, password: string): Promise<boolean> => {
    try {
      return pool ? (await pool.run({ op: "verify", phc, password })) === true : await argon2().verify(phc, password);
    } catch {
      return false;
    }
  };
  let dummy: Promise<string> | null = null;
  const current = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  return {
    hash: doHash,
    async verify(phc, password) {
      if (!phc.startsWith("$argon2")) return false;
      return doVerify(phc, password);
    },
    needsRehash: (phc) => !phc.startsWith(current),
    async verifyDummy(password) {
      dummy ??= doHash("gatehouse-dummy-password-for-timing");
      await doVerify(await dummy, password);
    },
    close: async () => pool?.close(),
  };
}
