import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Transporter } from "nodemailer";
import type { MailTransport } from "../core/mail/mail-transport.js";

/**
 * Development transport (no `SMTP_URL`): every mail is written as an `.eml`
 * file to `dir` (readable by the owner only), and the log says a mail was
 * written and where — never its content, which holds a live link.
 */
export function createFileTransport(options: { dir: string; from: string; onWritten: (file: string) => void }): MailTransport {
  // nodemailer (which builds the .eml) is loaded on the first mail, not at start.
  let builder: Promise<Transporter> | null = null;
  const load = async (): Promise<Transporter> =>
    (await import("nodemailer")).default.createTransport({ streamTransport: true, buffer: true, newline: "windows", disableFileAccess: true, disableUrlAccess: true });
  let seq = 0;
  return {
    description: `files in ${options.dir}`,
    async send(mail) {
      builder ??= load();
      const info = await (await builder).sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      const id = mail.messageId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 40);
      const file = join(options.dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${++seq}-${id}.eml`);
      writeFileSync(file, info.message as Buffer, { mode: 0o600 });
      options.onWritten(file);
    },
    close: () => undefined,
  };
}
