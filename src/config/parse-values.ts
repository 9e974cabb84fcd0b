/** Small value parsers for environment variables; each returns a value or throws a message. */

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `30m`, `12h`, `30d` (or a bare number of seconds) into milliseconds. */
export function parseDuration(raw: string): number {
  const text = raw.trim();
  const unit = UNITS[text.slice(-1)];
  const digits = unit === undefined ? text : text.slice(0, -1);
  if (!/^[0-9]{1,9}$/.test(digits)) throw new Error("must be a duration such as 90s, 30m, 12h or 30d");
  return Number(digits) * (unit ?? 1000);
}

/** Parses an integer within [min, max]. */
export function parseIntInRange(raw: string, min: number, max: number): number {
  if (!/^-?[0-9]{1,9}$/.test(raw.trim())) throw new Error(`must be a whole number between ${min} and ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
  return n;
}

/** Parses `true/false/1/0/yes/no/on/off`. */
export function parseBoolean(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new Error("must be true or false");
}

/** Parses an absolute http(s) URL and returns its origin (no path, query or credentials). */
export function parsePublicUrl(raw: string): string {
  const url = new URL(parseHttpUrl(raw, "https://auth.example.com"));
  if (url.username || url.password) throw new Error("must not contain credentials");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new Error("must be an origin without a path, such as https://auth.example.com");
  }
  return url.origin;
}

/** Parses a comma-separated CIDR/IP list (IPv4 or IPv6) for TRUSTED_PROXIES. */
export function parseCidrList(raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const item of items) {
    const [address, bits, extra] = item.split("/");
    if (extra !== undefined || address === undefined || !isIp(address)) throw new Error(`"${item}" is not an IP address or CIDR`);
    const max = address.includes(":") ? 128 : 32;
    if (bits !== undefined && !(/^[0-9]{1,3}$/.test(bits) && Number(bits) <= max)) throw new Error(`"${item}" has an invalid prefix length`);
    if (bits !== undefined && Number(bits) === 0) throw new Error(`"${item}" would trust every address; list your proxies instead`);
  }
  return items;
}

function isIp(value: string): boolean {
  if (value.includes(":")) {
    try {
      new URL(`http://[${value}]/`);
      return true;
    } catch {
      return false;
    }
  }
  const parts = value.split(".");
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** Parses a fixed-window limit `N/duration`, e.g. `10/1m` → {limit: 10, windowMs: 60000}. */
export function parseWindowLimit(raw: string): { limit: number; windowMs: number } {
  const [count, window, extra] = raw.trim().split("/");
  if (extra !== undefined || count === undefined || window === undefined || !/^[0-9]{1,6}$/.test(count) || Number(count) < 1) {
    throw new Error("must look like 10/1m (requests per duration)");
  }
  return { limit: Number(count), windowMs: parseDuration(window) };
}

/** Parses an absolute http(s) URL (a webhook, the public URL). */
export function parseHttpUrl(raw: string, example = "https://hooks.example.com/gatehouse"): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`must be an absolute URL such as ${example}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("must use http or https");
  return url.toString();
}

/** Parses an upstream app's URL (reverse-proxy mode): an http(s) origin, no credentials, path, query or fragment. */
export function parseUpstreamUrl(raw: string): string | null {
  if (raw.trim() === "") return null;
  const url = new URL(parseHttpUrl(raw, "http://127.0.0.1:3000"));
  if (url.username || url.password) throw new Error("must not contain credentials");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new Error("must be an origin without a path, such as http://127.0.0.1:3000");
  }
  return url.origin;
}

/** Parses the reserved path prefix of Gatehouse on proxied hosts: `/` then one or more plain segments, no trailing slash. */
export function parsePathPrefix(raw: string): string {
  const text = raw.trim();
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(text) || text.split("/").some((s) => s === "." || s === "..")) {
    throw new Error("must be a path such as /.gatehouse (letters, digits, . _ ~ -; no trailing slash)");
  }
  return text;
}

/** Headers a proxied request cannot do without; an operator cannot strip them (PROXY_STRIP_HEADERS). */
const NEEDED_HEADERS = new Set(["host", "content-length", "content-type", "transfer-encoding"]);

/**
 * Parses PROXY_STRIP_HEADERS: comma-separated header names, each optionally
 * ending in `*` for a whole family (`X-Corp-User, X-Corp-Auth-*`).
 */
export function parseHeaderNameList(raw: string): string[] {
  const items = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const item of items) {
    if (!/^[A-Za-z0-9!#$%&'+.^_`|~-]+\*?$/.test(item)) throw new Error(`"${item}" is not a header name (or a name prefix ending in *)`);
    if (NEEDED_HEADERS.has(item.toLowerCase().replaceAll("_", "-"))) throw new Error(`"${item}" cannot be stripped: every forwarded request needs it`);
  }
  return items;
}
