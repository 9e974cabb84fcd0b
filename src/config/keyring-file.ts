import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { deriveKey } from "../core/crypto/derive-key.js";
import { createKeyring, DATA_KEY_BYTES, DERIVED_KEY_ID, DERIVED_KEY_PURPOSE, KEY_ID_PATTERN, type Keyring } from "../core/secrets/keyring.js";
import type { KeyringSource } from "../core/secrets/secret-box.js";
import { describeFsError } from "./env-file.js";

/** The `format` member of a keyring file. */
export const KEYRING_FORMAT = "gatehouse-keyring";

/** A keyring file: `{format, version: 1, active, keys: [{id, key (base64, 32 bytes), created}]}`. */
export interface KeyringFile {
  active: string;
  keys: { id: string; key: string; created: string | null }[];
}

/** The data keys in use: from `KEYRING_FILE`, or the one derived from `SECRET_KEY` (`k0`). */
export interface KeyringConfig {
  /** The keyring file's absolute path, or null when the key is derived from `SECRET_KEY`. */
  file: string | null;
  activeId: string;
  /** Every key, base64. */
  keys: readonly { id: string; key: string }[];
}

const BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/** The one key derived from `SECRET_KEY` (id `k0`), as a keyring file would hold it. */
export function derivedKeyringFile(secretKey: string, now: Date): KeyringFile {
  return { active: DERIVED_KEY_ID, keys: [{ id: DERIVED_KEY_ID, key: deriveKey(secretKey, DERIVED_KEY_PURPOSE).toString("base64"), created: now.toISOString() }] };
}

/**
 * Reads and checks a keyring file. It must be a regular file that neither
 * its group nor other users can read or write (it holds the data keys).
 * Throws an Error naming the problem (never a key).
 */
export function readKeyringFile(path: string): KeyringFile {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: stat.isDirectory() ? "EISDIR" : "ENOTFILE" });
    const mode = stat.mode & 0o777;
    if (process.platform !== "win32" && (mode & 0o077) !== 0) {
      throw new KeyringFileError(`${path} is readable or writable by other users or its group (mode ${mode.toString(8).padStart(4, "0")}); it holds the data keys: chmod 600 ${path}`);
    }
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof KeyringFileError) throw err;
    throw new KeyringFileError(`cannot read ${path}: ${describeFsError(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new KeyringFileError(`${path} is not valid JSON`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== "object" || d === null || Array.isArray(d) || d.format !== KEYRING_FORMAT || d.version !== 1) {
    throw new KeyringFileError(`${path} is not a keyring file (expected {"format":"${KEYRING_FORMAT}","version":1,…})`);
  }
  if (typeof d.active !== "string" || !Array.isArray(d.keys)) throw new KeyringFileError(`${path}: "active" must be a key id and "keys" a list`);
  const keys = (d.keys as unknown[]).map((k, i) => {
    const e = k as Record<string, unknown>;
    if (typeof e !== "object" || e === null || typeof e.id !== "string" || !KEY_ID_PATTERN.test(e.id)) throw new KeyringFileError(`${path}: keys[${i}].id must be 1 to 32 letters, digits, "_" or "-"`);
    if (typeof e.key !== "string" || !BASE64.test(e.key) || Buffer.from(e.key, "base64").length !== DATA_KEY_BYTES) {
      throw new KeyringFileError(`${path}: key "${e.id}" must be ${DATA_KEY_BYTES} bytes in base64 (44 characters)`);
    }
    return { id: e.id, key: e.key, created: typeof e.created === "string" ? e.created : null };
  });
  const file = { active: d.active, keys };
  try {
    keyringOf({ file: path, activeId: file.active, keys: file.keys });
  } catch (err) {
    throw new KeyringFileError(`${path}: ${(err as Error).message}`);
  }
  return file;
}

/** A problem with a keyring file; the message never holds a key. */
export class KeyringFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyringFileError";
  }
}

/**
 * Writes a keyring file atomically with mode 0600: a new file beside it,
 * flushed, then renamed over the old one, so a crash leaves either the old
 * keyring or the new one, never half of one.
 */
export function writeKeyringFile(path: string, file: KeyringFile): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const body = `${JSON.stringify({ format: KEYRING_FORMAT, version: 1, active: file.active, keys: file.keys }, null, 2)}\n`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The {@link Keyring} of a keyring configuration. */
export function keyringOf(config: KeyringConfig): Keyring {
  return createKeyring(config.activeId, config.keys.map((k) => ({ id: k.id, key: Buffer.from(k.key, "base64") })));
}

const REFRESH_INTERVAL_MS = 1000;

/**
 * The keys of a configuration; with a keyring file, an envelope naming an
 * unknown key makes it re-read the file (at most once a second), so a server
 * picks up a `gatehouse keys rotate` run by another process. A file that has
 * become unreadable keeps the keys already loaded.
 */
export function keyringSource(config: KeyringConfig, onReloadError?: (err: Error) => void, now: () => number = Date.now): KeyringSource {
  let current = keyringOf(config);
  let lastRefresh = 0;
  const path = config.file;
  return {
    current: () => current,
    ...(path === null
      ? {}
      : {
          refresh() {
            const at = now();
            if (at - lastRefresh < REFRESH_INTERVAL_MS) return null;
            lastRefresh = at;
            try {
              const file = readKeyringFile(path);
              current = keyringOf({ file: path, activeId: file.active, keys: file.keys });
              return current;
            } catch (err) {
              onReloadError?.(err as Error);
              return null;
            }
          },
        }),
  };
}
