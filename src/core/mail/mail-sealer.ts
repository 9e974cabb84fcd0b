import { createDecipheriv } from "node:crypto";
import { MAIL_OUTBOX_COLUMN } from "../secrets/encrypted-columns.js";
import type { SecretBox, SecretContext } from "../secrets/secret-box.js";
import type { MailMessage } from "./mail-message.js";

/** Encrypts outbox payloads at rest: a mail body holds a live link until it is sent. */
export interface MailSealer {
  /** Encrypts `message`, bound to the outbox row `id`. */
  seal(id: string, message: MailMessage): string;
  /** Decrypts a payload sealed for `id`; throws when it was altered or sealed under another key or row. */
  open(id: string, sealed: string): MailMessage;
}

/** The payload format before outbox mails used the keyring: `v1.<iv‖tag‖ciphertext>`, one dot. */
const LEGACY = /^v1\.[A-Za-z0-9_-]+$/;

/**
 * Outbox payloads as {@link SecretBox} envelopes (AES-256-GCM under the
 * keyring's active key, the key id in the envelope, `mail_outbox|payload|<row
 * id>` as associated data), so `gatehouse keys rotate` re-encrypts queued
 * mail like any stored secret (CRY-02). `legacyKey` (derived from SECRET_KEY,
 * purpose `mail-outbox`) still opens a mail queued by a version before the
 * keyring; nothing is sealed with it any more.
 */
export function createMailSealer(box: SecretBox, legacyKey: Buffer | null = null): MailSealer {
  const contextOf = (id: string): SecretContext => ({ table: MAIL_OUTBOX_COLUMN.table, column: MAIL_OUTBOX_COLUMN.column, id });
  return {
    seal: (id, message) => box.seal(JSON.stringify(message), contextOf(id)),
    open(id, sealed) {
      const text = LEGACY.test(sealed) ? openLegacy(legacyKey, id, sealed) : box.open(sealed, contextOf(id));
      const parsed = JSON.parse(text) as MailMessage;
      return { to: parsed.to, subject: parsed.subject, text: parsed.text, html: parsed.html };
    },
  };
}

function openLegacy(key: Buffer | null, id: string, sealed: string): string {
  if (key === null) throw new Error("an outbox payload in the format before the keyring, and no key to open it");
  const raw = Buffer.from(sealed.slice(3), "base64url");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(id, "utf8"));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}
