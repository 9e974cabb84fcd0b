import { smtpTransportOptions } from "../../mail/smtp-options.js";
import { parseSmtpUrl } from "../../mail/smtp-url.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/** Why an SMTP check failed, from nodemailer's error code. */
function explain(err: unknown): { what: string; fix: string } {
  const code = (err as { code?: string } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "EAUTH") return { what: `authentication failed (${message})`, fix: "check the user and password in SMTP_URL (percent-encode special characters)" };
  if (code === "ETLS" || /STARTTLS/i.test(message)) return { what: `TLS failed (${message})`, fix: "the server must offer STARTTLS on smtp:// (or use smtps:// on port 465) with a certificate for this host name; trust a private CA with NODE_EXTRA_CA_CERTS" };
  if (/certificate|self[- ]signed|SSL|TLS/i.test(message)) return { what: `the TLS certificate is not accepted (${message})`, fix: "use the host name the certificate is for, or trust its CA with NODE_EXTRA_CA_CERTS" };
  return { what: `cannot connect (${message})`, fix: "check the host and port of SMTP_URL and that the mail server accepts connections from here" };
}

/** Outgoing mail (SMTP_URL): connect, EHLO, STARTTLS or implicit TLS as configured, and authentication. */
export async function smtpCheck(ctx: DoctorContext): Promise<Finding[]> {
  const url = ctx.config?.smtpUrl ?? null;
  if (url === null || ctx.broken.has("SMTP_URL") || ctx.broken.has("SMTP_URL_FILE")) {
    if (ctx.config !== null && url === null && ctx.production) {
      return [{ level: "warn", message: "no SMTP_URL: mail is disabled in production (no password resets, email verification or alerts by mail)", fix: "set SMTP_URL (smtps://user:pass@host:465 or smtp://user:pass@host:587)" }];
    }
    return [];
  }
  const smtp = parseSmtpUrl(url);
  const tls = smtp.secure ? "implicit TLS" : smtp.ignoreTLS ? "no TLS (ignoreTLS=true)" : "STARTTLS";
  const nodemailer = (await import("nodemailer")).default;
  const transporter = nodemailer.createTransport(smtpTransportOptions(smtp, { connectMs: 5_000, socketMs: 10_000 }));
  try {
    await transporter.verify();
    return [{ level: "ok", message: `SMTP ${smtp.description}: connected, ${tls}, ${smtp.user === null ? "no authentication" : "authenticated"}`, fix: "" }];
  } catch (err) {
    const { what, fix } = explain(err);
    return [{ level: "error", message: `SMTP ${smtp.description} (${tls}): ${ctx.scrub(what)}`, fix }];
  } finally {
    transporter.close();
  }
}
