import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import type { SmtpSettings } from "./smtp-url.js";

/**
 * nodemailer's SMTP options for `SMTP_URL`: TLS required — implicit with
 * `smtps://`, STARTTLS with `smtp://` — unless `?ignoreTLS=true`;
 * certificates always verified, TLS 1.2 at least. Shared by the mail
 * transport and `gatehouse doctor`, so doctor checks exactly what is used.
 */
export function smtpTransportOptions(smtp: SmtpSettings, timeouts = { connectMs: 10_000, socketMs: 30_000 }): SMTPTransport.Options {
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && !smtp.ignoreTLS,
    ignoreTLS: smtp.ignoreTLS,
    ...(smtp.user !== null ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
    tls: { rejectUnauthorized: true, minVersion: "TLSv1.2", servername: smtp.host },
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.connectMs,
    socketTimeout: timeouts.socketMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
}
