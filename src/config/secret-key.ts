import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Values from docs and tutorials that must never be accepted as a secret (CRY-04). */
const WELL_KNOWN = new Set([
  "changeme", "change-me", "change_me", "changethis", "secret", "secretkey", "secret_key", "your-secret-key",
  "your_secret_key", "your-secret-key-here", "supersecret", "password", "replace-me", "replace-with-a-long-random-secret",
  "please-change-this-secret-key-in-production", "gatehouse-example-secret-key-do-not-use-0123456789",
  "0123456789abcdef0123456789abcdef", "00000000000000000000000000000000", "abcdefghijklmnopqrstuvwxyz012345",
]);

/** Minimum secret length in bytes. */
export const SECRET_KEY_MIN_BYTES = 32;

/** Why a secret key is unacceptable, or null. */
export function secretKeyProblem(key: string): string | null {
  if (Buffer.byteLength(key, "utf8") < SECRET_KEY_MIN_BYTES) {
    return `SECRET_KEY must be at least ${SECRET_KEY_MIN_BYTES} bytes (generate one with: openssl rand -hex 32)`;
  }
  if (WELL_KNOWN.has(key.toLowerCase()) || new Set(key).size < 8) {
    return "SECRET_KEY is a well-known example or low-entropy value; generate one with: openssl rand -hex 32";
  }
  return null;
}

/**
 * Outside production: reads the generated secret from `<dataDir>/secret.key`,
 * or creates it (32 random bytes, hex, file mode 0600) on first start.
 */
export function loadOrCreateDevSecret(dataDir: string): { key: string; created: boolean } {
  const file = join(dataDir, "secret.key");
  try {
    const key = readFileSync(file, "utf8").trim();
    if (secretKeyProblem(key) === null) return { key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString("hex");
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, created: true };
}
