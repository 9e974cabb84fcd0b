import type { Transporter } from "nodemailer";
import type { MailTransport } from "../core/mail/mail-transport.js";
import { smtpTransportOptions } from "./smtp-options.js";
import { parseSmtpUrl } from "./smtp-url.js";

/**
 * The SMTP transport (nodemailer). TLS is required — implicit with
 * `smtps://`, STARTTLS with `smtp://` — unless the URL says
 * `?ignoreTLS=true`; certificates are always verified (CFG-03), TLS 1.2 at
 * least. Attachments and remote content are disabled.
 */
export function createSmtpTransport(options: { url: string; from: string }): MailTransport {
  const smtp = parseSmtpUrl(options.url);
  // nodemailer is loaded on the first mail, not at start.
  let transporter: Promise<Transporter> | null = null;
  const connect = async (): Promise<Transporter> => (await import("nodemailer")).default.createTransport(smtpTransportOptions(smtp));
  return {
    description: smtp.description,
    async send(mail) {
      transporter ??= connect();
      await (await transporter).sendMail({
        from: options.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    },
    close: () => {
      if (transporter !== null) void transporter.then((t) => t.close(), () => undefined);
    },
  };
}
