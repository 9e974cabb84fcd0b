import type { LoggerOptions } from "pino";

/** Fields that may carry secrets anywhere in a log object; their values become "[redacted]" (LOG-03). */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-csrf-token']",
  "req.headers['x-backup-passphrase']",
  "res.headers['set-cookie']",
  "headers.authorization",
  "headers.cookie",
  "*.password",
  "*.newPassword",
  "*.currentPassword",
  "*.token",
  "*.secret",
  "*.secretKey",
  "*.cookie",
  "*.authorization",
  "password",
  "token",
  "secret",
  "secretKey",
];

function pathOnly(url: string | undefined): string {
  if (url === undefined) return "";
  const q = url.indexOf("?");
  return (q === -1 ? url : url.slice(0, q)).slice(0, 512);
}

/**
 * pino options: JSON lines (CR/LF escaped by construction, LOG-04), secrets
 * redacted, and requests logged as method + path only — the query string is
 * dropped because a careless client may put a token there.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: {
      req(req: { method?: string; url?: string; ip?: string; id?: string }) {
        return { method: req.method, path: pathOnly(req.url), ip: req.ip };
      },
      res(res: { statusCode?: number }) {
        return { statusCode: res.statusCode };
      },
    },
  };
}
