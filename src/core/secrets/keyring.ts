/** A key id: short, printable and free of the envelope's `.` separator. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** Bytes of every data key (AES-256). */
export const DATA_KEY_BYTES = 32;

/** The id of the key derived from `SECRET_KEY` when no keyring file is configured. */
export const DERIVED_KEY_ID = "k0";

/** The HKDF purpose of the derived data key (`deriveKey(secretKey, DERIVED_KEY_PURPOSE)`). */
export const DERIVED_KEY_PURPOSE = "secrets-at-rest";

/**
 * The data keys that encrypt stored secrets: every key by its id, and the
 * one new writes use. Old keys stay so that rows sealed under them can still
 * be read (and re-encrypted under the active one).
 */
export interface Keyring {
  /** The id of the key new envelopes are sealed under. */
  readonly activeId: string;
  /** Every known key by id (32 bytes each). */
  readonly keys: ReadonlyMap<string, Buffer>;
}

/** One key of a keyring as given by a file or a derivation. */
export interface KeyEntry {
  id: string;
  key: Buffer;
}

/**
 * Builds a {@link Keyring}, checking every id, every key length, that ids are
 * unique and that the active key is among them. Throws an Error whose message
 * names the problem, never a key.
 */
export function createKeyring(activeId: string, entries: readonly KeyEntry[]): Keyring {
  if (entries.length === 0) throw new Error("a keyring needs at least one key");
  const keys = new Map<string, Buffer>();
  for (const { id, key } of entries) {
    if (!KEY_ID_PATTERN.test(id)) throw new Error(`key id "${id.slice(0, 40)}" must be 1 to 32 letters, digits, "_" or "-"`);
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    if (key.length !== DATA_KEY_BYTES) throw new Error(`key "${id}" must be ${DATA_KEY_BYTES} bytes, not ${key.length}`);
    keys.set(id, Buffer.from(key));
  }
  if (!keys.has(activeId)) throw new Error(`the active key "${activeId.slice(0, 40)}" is not in the keyring`);
  return { activeId, keys };
}

/** The next free id of the form `k<n>` (one above the highest `k<n>` in use). */
export function nextKeyId(keyring: Pick<Keyring, "keys">): string {
  let highest = -1;
  for (const id of keyring.keys.keys()) {
    const m = /^k(\d{1,9})$/.exec(id);
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  return `k${highest + 1}`;
}
