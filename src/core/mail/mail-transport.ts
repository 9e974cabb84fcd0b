import type { MailKind, MailMessage } from "./mail-message.js";

/** One mail as handed to a transport: the rendered message plus a stable Message-ID. */
export interface OutgoingMail extends MailMessage {
  /** The same for every attempt of one outbox row, so a duplicate delivery can be recognised. */
  messageId: string;
  /** What the mail is about (names the development `.eml` file); never secret. */
  kind?: MailKind;
}

/**
 * Delivers mail (SMTP, or files in development). `send` resolves only once
 * the mail was accepted; it throws on any failure.
 */
export interface MailTransport {
  /** A description for logs, without credentials (e.g. `smtp://mail.example.com:587`). */
  readonly description: string;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}
