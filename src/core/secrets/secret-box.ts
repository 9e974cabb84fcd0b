import { createCipheriv, createDecipheriv } from "node:crypto";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { Keyring } from "./keyring.js";
import { formatEnvelope, NONCE_BYTES, parseEnvelope, TAG_BYTES } from "./secret-envelope.js";

/**
 * Where a secret is stored: its table, column and row id. All three are the
 * envelope's additional authenticated data (`table|column|id`), so an
 * envelope copied to another row, column or table does not open.
 */
export interface SecretContext {
  /** A table name (lower-case letters, digits, `_`). */
  table: string;
  /** A column name (lower-case letters, digits, `_`). */
  column: string;
  /** The row's identity as its owner sees it (e.g. `<user id>/<kind>`); 1 to 256 characters. */
  id: string;
}

/** The keys a box uses; `refresh` re-reads them (a keyring file rotated by another process). */
export interface KeyringSource {
  current(): Keyring;
  /** Re-reads the keys when an envelope names an unknown key; null when nothing could be re-read. */
  refresh?(): Keyring | null;
}

/** Seals and opens stored secrets (AES-256-GCM envelopes, CRY-01, CRY-02). */
export interface SecretBox {
  /** Encrypts `plaintext` for `ctx` under the active key, with a fresh random 96-bit nonce. */
  seal(plaintext: string, ctx: SecretContext): string;
  /**
   * Decrypts an envelope sealed for `ctx`. Throws {@link GatehouseError}
   * `secret_unreadable` when the key id is unknown, the key is not the one it
   * was sealed with, a byte was changed, or the envelope belongs to another
   * row; the error's `cause` explains which for the operator's log, never
   * with the secret or the envelope.
   */
  open(envelope: string, ctx: SecretContext): string;
  /** True when `envelope` is not under the active key (it should be re-encrypted). */
  needsRewrap(envelope: string): boolean;
  /** The id of the key new envelopes are sealed under. */
  activeKeyId(): string;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** The additional data of an envelope: `table|column|id` (table and column cannot contain `|`). */
export function associatedData(ctx: SecretContext): Buffer {
  if (!NAME.test(ctx.table) || !NAME.test(ctx.column)) throw new Error("a secret's table and column must be lower-case identifiers");
  if (typeof ctx.id !== "string" || ctx.id.length === 0 || ctx.id.length > 256) throw new Error("a secret's row id must be 1 to 256 characters");
  return Buffer.from(`${ctx.table}|${ctx.column}|${ctx.id}`, "utf8");
}

function unreadable(ctx: SecretContext, why: string): GatehouseError {
  return new GatehouseError("secret_unreadable", { cause: new Error(`stored secret ${ctx.table}.${ctx.column} of row ${JSON.stringify(ctx.id)} cannot be decrypted: ${why}`) });
}

/** Builds a {@link SecretBox} over `keys`; `random` supplies the nonces. */
export function createSecretBox(keys: KeyringSource, random: Random): SecretBox {
  const keyFor = (keyId: string): { key: Buffer | undefined; known: string[] } => {
    let ring = keys.current();
    if (!ring.keys.has(keyId) && keys.refresh) ring = keys.refresh() ?? ring;
    return { key: ring.keys.get(keyId), known: [...ring.keys.keys()] };
  };
  return {
    seal(plaintext, ctx) {
      const aad = associatedData(ctx);
      const ring = keys.current();
      const key = ring.keys.get(ring.activeId)!;
      const nonce = random.bytes(NONCE_BYTES);
      if (nonce.length !== NONCE_BYTES) throw new Error("the random source gave a short nonce");
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return formatEnvelope({ keyId: ring.activeId, nonce, sealed: body });
    },
    open(envelope, ctx) {
      const aad = associatedData(ctx);
      const parts = parseEnvelope(envelope);
      if (typeof parts === "string") throw unreadable(ctx, parts);
      const { key, known } = keyFor(parts.keyId);
      if (!key) {
        throw unreadable(ctx, `it was sealed under key "${parts.keyId}", which is not in the keyring (known: ${known.join(", ")}); restore the keyring file that holds that key (KEYRING_FILE)`);
      }
      const cut = parts.sealed.length - TAG_BYTES;
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, parts.nonce, { authTagLength: TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(parts.sealed.subarray(cut));
        return Buffer.concat([decipher.update(parts.sealed.subarray(0, cut)), decipher.final()]).toString("utf8");
      } catch {
        throw unreadable(ctx, `authentication failed under key "${parts.keyId}": the keyring holds a different key under that id, or the stored value was altered or moved from another row`);
      }
    },
    needsRewrap(envelope) {
      const parts = parseEnvelope(envelope);
      return typeof parts === "string" || parts.keyId !== keys.current().activeId;
    },
    activeKeyId: () => keys.current().activeId,
  };
}
