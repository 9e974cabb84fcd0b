import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Transporter } from "nodemailer";
import type { MailTransport } from "../core/mail/mail-transport.js";
import { readableTextPart } from "./readable-text-part.js";

/**
 * The name of one development `.eml` file: UTC time to the second, the kind
 * of mail and a short id, e.g. `2026-12-06T03-04-05Z-password-reset-1a2b3c4d.eml`.
 * Sorts by time; no spaces or colons; nothing secret (the id is the outbox
 * row's, already in the Message-ID header, never a token).
 */
export function outboxFileName(now: number, kind: string | undefined, messageId: string, idLength = 8): string {
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const id = messageId.replace(/^</, "").split("@")[0]!.replace(/[^A-Za-z0-9]/g, "").toLowerCase().slice(0, idLength) || "mail";
  const what = (kind ?? "mail").replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  return `${stamp}-${what}-${id}.eml`;
}

/**
 * Development transport (no `SMTP_URL`): every mail is written as an `.eml`
 * file to `dir` (readable by the owner only), and the log says a mail was
 * written and where — never its content, which holds a live link. The text
 * part is written 7bit/8bit (see {@link readableTextPart}) so that `cat`
 * shows the link whole.
 */
export function createFileTransport(options: { dir: string; from: string; onWritten: (file: string) => void; now?: () => number }): MailTransport {
  const now = options.now ?? Date.now;
  // nodemailer (which builds the .eml) is loaded on the first mail, not at start.
  let builder: Promise<Transporter> | null = null;
  const load = async (): Promise<Transporter> =>
    (await import("nodemailer")).default.createTransport({ streamTransport: true, buffer: true, newline: "windows", disableFileAccess: true, disableUrlAccess: true });
  return {
    description: `files in ${options.dir}`,
    async send(mail) {
      builder ??= load();
      const raw = readableTextPart(mail.text);
      // `raw` replaces the whole text node (headers and body); nodemailer's types list it for attachments only.
      const text = raw === null ? mail.text : ({ raw } as unknown as string);
      const at = now();
      // The stream transport (`buffer: true`) answers with the message bytes; its typings say `any`.
      const info = (await (await builder).sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text,
        html: mail.html,
        messageId: mail.messageId,
        date: new Date(at),
      })) as { message: Buffer };
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      // Never overwrite: two mails of one kind in the same second with the same short id get the full id.
      for (const idLength of [8, 64]) {
        const file = join(options.dir, outboxFileName(at, mail.kind, mail.messageId, idLength));
        try {
          writeFileSync(file, info.message, { mode: 0o600, flag: "wx" });
          options.onWritten(file);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST" || idLength === 64) throw err;
        }
      }
    },
    close: () => undefined,
  };
}
