/**
 * What each legacy hash scheme means (docs/legacy-hashes.md): how to check a
 * password against a hash another app made, as a plain-data {@link LegacyJob}
 * that runs in a hashing thread (argon2-threads.ts) or, without threads, here
 * ({@link runLegacyJob}). The parsing and its bounds are identify-hash.ts.
 */
import { createHash, pbkdf2, scrypt, timingSafeEqual } from "node:crypto";
import { createRequire } from "node:module";
import { identifyPasswordHash, type HashScheme, type LegacyHash, type Pbkdf2Digest } from "./identify-hash.js";

/**
 * One verification, as data (it crosses to a hashing thread). `expected` is
 * the stored digest in hex; the derived one is compared in constant time.
 * `refuse` is a hash that cannot match this password (bcrypt over 72 bytes).
 */
export type LegacyJob =
  | { alg: "pbkdf2"; password: string; salt: string; iterations: number; digest: Pbkdf2Digest; expected: string }
  | { alg: "scrypt"; password: string; salt: string; n: number; r: number; p: number; maxmem: number; expected: string }
  | { alg: "bcrypt"; password: string; hash: string }
  | { alg: "argon2"; password: string; phc: string }
  | { alg: "refuse" };

/** bcrypt reads at most this many bytes of a password. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;

/** werkzeug 3's scrypt derives 64 bytes (hashlib.scrypt's default dklen). */
const SCRYPT_KEY_BYTES = 64;

/**
 * The memory OpenSSL needs for one scrypt (128·r·(N+2) for V plus 128·r·p
 * for B), with 1 MiB to spare. Node's default limit (32 MiB) is below
 * werkzeug's default N=32768, r=8 (32 MiB + 256 KiB); werkzeug's own
 * 132·N·r·p is too small for a small N. identify-hash.ts bounds 128·N·r to 128 MiB.
 */
export function scryptMaxmem(n: number, r: number, p: number): number {
  return 128 * r * (n + 2) + 128 * r * p + 1024 * 1024;
}

/**
 * The check a recognised hash asks for, computed from the password (pure):
 * - werkzeug pbkdf2: hex(PBKDF2(password UTF-8, salt as UTF-8 text, iterations, digest size));
 * - werkzeug scrypt (werkzeug ≥ 3.0): hex(scrypt(password, salt UTF-8, 64 bytes, N, r, p));
 * - Django pbkdf2_sha256/sha1: base64(PBKDF2(password, salt, iterations, digest size));
 * - bcrypt `$2a$`/`$2b$`/`$2y$` (and Django's `bcrypt$`): a password over 72 UTF-8 bytes
 *   never matches (bcrypt would compare only its first 72 bytes; AUTH-04);
 * - Django bcrypt_sha256: bcrypt of the lowercase hex SHA-256 of the password;
 * - Argon2 PHC (i, d, id, Django's `argon2$`): the PHC string as is.
 */
export function planLegacyVerify(hash: LegacyHash, password: string): LegacyJob {
  switch (hash.kind) {
    case "pbkdf2":
      return { alg: "pbkdf2", password, salt: hash.salt, iterations: hash.iterations, digest: hash.digest, expected: hash.expected.toString("hex") };
    case "scrypt":
      if (hash.expected.length !== SCRYPT_KEY_BYTES) return { alg: "refuse" };
      return { alg: "scrypt", password, salt: hash.salt, n: hash.n, r: hash.r, p: hash.p, maxmem: scryptMaxmem(hash.n, hash.r, hash.p), expected: hash.expected.toString("hex") };
    case "bcrypt": {
      if (hash.prehash === "sha256-hex") return { alg: "bcrypt", password: createHash("sha256").update(password, "utf8").digest("hex"), hash: hash.hash };
      if (Buffer.byteLength(password, "utf8") > BCRYPT_MAX_PASSWORD_BYTES) return { alg: "refuse" };
      return { alg: "bcrypt", password, hash: hash.hash };
    }
    case "argon2":
      return { alg: "argon2", password, phc: hash.phc };
  }
}

const load = createRequire(import.meta.url);
let bcryptjs: typeof import("bcryptjs") | null = null;
let argon2: typeof import("@node-rs/argon2") | null = null;

function sameHex(derived: Buffer, expectedHex: string): boolean {
  const expected = Buffer.from(expectedHex, "hex");
  return derived.length === expected.length && timingSafeEqual(derived, expected);
}

/**
 * Runs a {@link LegacyJob} in this thread (PBKDF2 and scrypt on the libuv
 * pool). The server runs jobs in its hashing threads instead
 * (argon2-threads.ts, the same steps). Never throws: a failure is false.
 */
export async function runLegacyJob(job: LegacyJob): Promise<boolean> {
  try {
    switch (job.alg) {
      case "pbkdf2": {
        const size = job.expected.length / 2;
        const derived = await new Promise<Buffer>((resolve, reject) =>
          pbkdf2(Buffer.from(job.password, "utf8"), Buffer.from(job.salt, "utf8"), job.iterations, size, job.digest, (err, key) => (err ? reject(err) : resolve(key))),
        );
        return sameHex(derived, job.expected);
      }
      case "scrypt": {
        const derived = await new Promise<Buffer>((resolve, reject) =>
          scrypt(Buffer.from(job.password, "utf8"), Buffer.from(job.salt, "utf8"), job.expected.length / 2, { N: job.n, r: job.r, p: job.p, maxmem: job.maxmem }, (err, key) =>
            err ? reject(err) : resolve(key),
          ),
        );
        return sameHex(derived, job.expected);
      }
      case "bcrypt":
        bcryptjs ??= load("bcryptjs") as typeof import("bcryptjs");
        return await bcryptjs.compare(job.password, job.hash);
      case "argon2":
        argon2 ??= load("@node-rs/argon2") as typeof import("@node-rs/argon2");
        return await argon2.verify(job.phc, job.password);
      case "refuse":
        return false;
    }
  } catch {
    return false;
  }
}

/** A Gatehouse-shaped hash (`$argon2id$v=19$`): verified as Argon2id, rehashed without an upgrade event. */
export function isNativeArgon2id(stored: string): boolean {
  return stored.startsWith("$argon2id$v=19$");
}

/**
 * The legacy scheme of a stored hash, or null for Gatehouse's own format
 * (`$argon2id$v=19$…`, whatever its parameters) and for unusable strings.
 * Upgrading a hash of a legacy scheme is audited as `password_upgraded`.
 */
export function legacySchemeOf(stored: string): HashScheme | null {
  if (isNativeArgon2id(stored)) return null;
  const identity = identifyPasswordHash(stored);
  return identity.ok ? identity.scheme : null;
}

/**
 * Checks `password` against a legacy hash in this thread: false (never a
 * throw) for a wrong password and for a malformed or unknown hash. No cost
 * padding here; the hasher (argon2-hasher.ts) adds it.
 */
export async function verifyLegacyHash(stored: string, password: string): Promise<boolean> {
  const identity = identifyPasswordHash(stored);
  if (!identity.ok) return false;
  return runLegacyJob(planLegacyVerify(identity.hash, password));
}
