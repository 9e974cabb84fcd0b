/** SMTP settings read from `SMTP_URL`. */
export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (`smtps://`). */
  secure: boolean;
  /** Plain `smtp://` without STARTTLS: only with `?ignoreTLS=true` (local relays, tests). */
  ignoreTLS: boolean;
  user: string | null;
  pass: string | null;
  /** For logs: scheme, host and port, never credentials. */
  description: string;
}

/**
 * Parses `SMTP_URL`: `smtps://user:pass@host:465` (implicit TLS) or
 * `smtp://host:587` (STARTTLS required). Plaintext only with
 * `?ignoreTLS=true`; no other query options. Throws with a message that
 * never contains the URL (it may hold a password).
 */
export function parseSmtpUrl(raw: string): SmtpSettings {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("must be a URL such as smtps://user:pass@mail.example.com:465 or smtp://mail.example.com:587");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") throw new Error("must start with smtp:// or smtps://");
  if (url.hostname === "") throw new Error("must name a host");
  const secure = url.protocol === "smtps:";
  let ignoreTLS = false;
  for (const [key, value] of url.searchParams) {
    if (key !== "ignoreTLS" || (value !== "true" && value !== "false")) throw new Error("accepts no query option but ignoreTLS=true");
    ignoreTLS = value === "true";
  }
  if (secure && ignoreTLS) throw new Error("cannot combine smtps:// with ignoreTLS=true");
  if (url.pathname !== "" && url.pathname !== "/") throw new Error("must not have a path");
  const port = url.port === "" ? (secure ? 465 : 587) : Number(url.port);
  return {
    host: url.hostname,
    port,
    secure,
    ignoreTLS,
    user: url.username === "" ? null : decodeURIComponent(url.username),
    pass: url.password === "" ? null : decodeURIComponent(url.password),
    description: `${url.protocol}//${url.hostname}:${port}${ignoreTLS ? " (plaintext)" : ""}`,
  };
}
