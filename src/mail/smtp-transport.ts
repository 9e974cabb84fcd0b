import type { Transporter } from "nodemailer";
import type { MailTransport } from "../core/mail/mail-transport.js";
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
  const connect = async (): Promise<Transporter> => (await import("nodemailer")).default.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && !smtp.ignoreTLS,
    ignoreTLS: smtp.ignoreTLS,
    ...(smtp.user !== null ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
    tls: { rejectUnauthorized: true, minVersion: "TLSv1.2", servername: smtp.host },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
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
