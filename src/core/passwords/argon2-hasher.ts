import { createRequire } from "node:module";
import type { Algorithm } from "@node-rs/argon2";
import { createArgon2Threads } from "./argon2-threads.js";
import { identifyPasswordHash, type HashIdentity } from "./legacy/identify-hash.js";
import { isNativeArgon2id, planLegacyVerify, runLegacyJob, type LegacyJob } from "./legacy/legacy-verify.js";

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
 *
 * `verify` also accepts every legacy scheme of identify-hash.ts (imported
 * accounts, docs/legacy-hashes.md), in the same threads; `needsRehash` is
 * true for them, so the first sign-in upgrades them. A check cheaper than an
 * Argon2id verify with these parameters (every non-Argon2 scheme, an Argon2
 * hash with a smaller m·t) is followed by a dummy Argon2id verify, so a wrong
 * password never costs less for a legacy account than for a native one. A
 * stored string that is not a usable hash costs one dummy verify, like an
 * unknown user, and is false.
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
  const dummyHash = (): Promise<string> => (dummy ??= doHash("gatehouse-dummy-password-for-timing"));
  const verifyDummy = async (password: string): Promise<void> => {
    await doVerify(await dummyHash(), password);
  };
  const current = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  /** True when checking this hash costs less than an Argon2id verify with the current parameters. */
  const cheaperThanNative = (identity: HashIdentity & { ok: true }): boolean =>
    identity.hash.kind !== "argon2" || identity.hash.memoryKiB * identity.hash.iterations < params.memoryCost * params.timeCost;
  const runWithFloor = async (job: LegacyJob, password: string, floor: boolean): Promise<boolean> => {
    const pad = floor ? await dummyHash() : null;
    if (pool) {
      try {
        return (await pool.run({ op: "legacy", job, password, pad })) === true;
      } catch {
        return false;
      }
    }
    const ok = await runLegacyJob(job);
    if (pad !== null) await doVerify(pad, password);
    return ok;
  };
  return {
    hash: doHash,
    async verify(stored, password) {
      // Gatehouse's own hashes (current parameters): as always, whatever the legacy bounds.
      if (stored.startsWith(current)) return doVerify(stored, password);
      const identity = identifyPasswordHash(stored);
      if (!identity.ok) {
        await verifyDummy(password);
        return false;
      }
      const floor = cheaperThanNative(identity);
      if (isNativeArgon2id(stored) && !floor) return doVerify(stored, password);
      return runWithFloor(planLegacyVerify(identity.hash, password), password, floor);
    },
    needsRehash: (phc) => !phc.startsWith(current),
    verifyDummy,
    close: async () => pool?.close(),
  };
}
