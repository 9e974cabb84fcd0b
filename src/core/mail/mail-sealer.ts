import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MailMessage } from "./mail-message.js";

/** Encrypts outbox payloads at rest: a mail body holds a live link until it is sent. */
export interface MailSealer {
  /** Encrypts `message`, bound to the outbox row `id`. */
  seal(id: string, message: MailMessage): string;
  /** Decrypts a payload sealed for `id`; throws when it was altered or sealed under another key or row. */
  open(id: string, sealed: string): MailMessage;
}

const VERSION = "v1";

/**
 * AES-256-GCM under `key` (derive it from SECRET_KEY with the purpose
 * `mail-outbox`), with the row id as additional data so a payload cannot be
 * moved to another row.
 */
export function createMailSealer(key: Buffer): MailSealer {
  if (key.length !== 32) throw new Error("the outbox key must be 32 bytes");
  return {
    seal(id, message) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(id, "utf8"));
      const body = Buffer.concat([cipher.update(JSON.stringify(message), "utf8"), cipher.final()]);
      return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(id, sealed) {
      const [version, data] = sealed.split(".", 2);
      if (version !== VERSION || data === undefined) throw new Error("unknown outbox payload format");
      const raw = Buffer.from(data, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(id, "utf8"));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
      const parsed = JSON.parse(text) as MailMessage;
      return { to: parsed.to, subject: parsed.subject, text: parsed.text, html: parsed.html };
    },
  };
}
