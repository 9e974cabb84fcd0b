import { createCipheriv, createDecipheriv, randomBytes, scrypt, type ScryptOptions } from "node:crypto";
import { GatehouseError } from "../core/errors.js";

/**
 * The encrypted envelope (version 1), all lengths fixed:
 *
 * | bytes | content                                   |
 * |-------|-------------------------------------------|
 * | 8     | magic `GHBACKUP`                          |
 * | 1     | envelope version (1)                      |
 * | 16    | scrypt salt                               |
 * | 12    | AES-256-GCM nonce (random, 96 bits)       |
 * | 16    | GCM tag                                   |
 * | rest  | ciphertext of the plain backup document   |
 *
 * The first 37 bytes (magic to nonce) are the additional authenticated data,
 * so no header byte can be altered either. The key is scrypt(passphrase,
 * salt, N=2^17, r=8, p=1); the passphrase is never stored (BKP-02).
 */
export const ENVELOPE_MAGIC = Buffer.from("GHBACKUP", "ascii");
export const ENVELOPE_VERSION = 1;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_BYTES = ENVELOPE_MAGIC.length + 1 + SALT_BYTES + NONCE_BYTES;
const HEADER_BYTES = AAD_BYTES + TAG_BYTES;

/** The scrypt parameters of envelope version 1 (128 MiB of memory per derivation). */
export const SCRYPT_PARAMS: ScryptOptions = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };

/** Shortest passphrase accepted when encrypting. */
export const MIN_PASSPHRASE_LENGTH = 12;

function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize("NFC"), salt, 32, SCRYPT_PARAMS, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** True when `bytes` starts with the envelope magic (an encrypted backup). */
export function isEncryptedBackup(bytes: Buffer): boolean {
  return bytes.length >= ENVELOPE_MAGIC.length && bytes.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC);
}

/**
 * Encrypts a backup document under a passphrase (AES-256-GCM, scrypt key,
 * fresh salt and nonce every time). A passphrase shorter than
 * {@link MIN_PASSPHRASE_LENGTH} is refused with `invalid_request`.
 */
export async function encryptBackup(plain: Buffer, passphrase: string): Promise<Buffer> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) throw new GatehouseError("invalid_request", { fields: ["passphrase"] });
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const aad = Buffer.concat([ENVELOPE_MAGIC, Buffer.from([ENVELOPE_VERSION]), salt, nonce]);
  const key = await deriveKey(passphrase, salt);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  key.fill(0);
  return Buffer.concat([aad, cipher.getAuthTag(), body]);
}

/**
 * Decrypts an envelope. A wrong passphrase, an unknown version, a truncated
 * file or any altered byte → `integrity_error`; no plaintext is released
 * unless the tag verifies.
 */
export async function decryptBackup(sealed: Buffer, passphrase: string): Promise<Buffer> {
  if (!isEncryptedBackup(sealed) || sealed.length < HEADER_BYTES) throw new GatehouseError("integrity_error");
  if (sealed[ENVELOPE_MAGIC.length] !== ENVELOPE_VERSION) throw new GatehouseError("integrity_error", { fields: ["version"] });
  const saltAt = ENVELOPE_MAGIC.length + 1;
  const salt = sealed.subarray(saltAt, saltAt + SALT_BYTES);
  const nonce = sealed.subarray(saltAt + SALT_BYTES, AAD_BYTES);
  const tag = sealed.subarray(AAD_BYTES, HEADER_BYTES);
  const key = await deriveKey(passphrase, Buffer.from(salt));
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(sealed.subarray(0, AAD_BYTES));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
  } catch (err) {
    throw new GatehouseError("integrity_error", { cause: err });
  } finally {
    key.fill(0);
  }
}
