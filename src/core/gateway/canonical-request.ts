/**
 * Canonical forms of the host and path a gateway decision is about (FWD-04).
 * Anything ambiguous is refused instead of guessed: an encoded slash,
 * backslash, dot or percent sign, a `;` parameter, a NUL or other control
 * character. A request refused here never reaches a rule.
 */

/** A canonical request target, or why it was refused. */
export type CanonicalTarget =
  | { ok: true; hostname: string; port: string; path: string; query: string }
  | { ok: false; reason: string };

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const MAX_URI = 8192;

/**
 * Canonical host: lower-cased, without a trailing dot, and without the port
 * when it is the default one for `proto`. Null when the host is malformed.
 */
export function canonicalHost(raw: string, proto: string): { hostname: string; port: string } | null {
  let host = raw.trim().toLowerCase();
  let port = "";
  const colon = host.lastIndexOf(":");
  if (colon !== -1 && colon > host.lastIndexOf("]")) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return null;
    port = String(Number(port));
    if ((proto === "https" && port === "443") || (proto === "http" && port === "80")) port = "";
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return null;
  if (!IPV6.test(host) && !host.split(".").every((label) => LABEL.test(label))) return null;
  return { hostname: host, port };
}

/** Bytes that may never appear percent-encoded in a path: `/`, `\`, `.`, `%`, `;`, `?`, `#` and control characters. */
function ambiguousEncoded(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f || byte === 0x2f || byte === 0x5c || byte === 0x2e || byte === 0x25 || byte === 0x3b || byte === 0x3f || byte === 0x23;
}

/** True when the raw text holds a control character (NUL included), a space, or (when `backslash`) a backslash. */
function hasForbiddenRaw(text: string, backslash: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || (backslash && c === 0x5c)) return true;
  }
  return false;
}

/**
 * Canonical path: percent-decoded exactly once, repeated slashes collapsed,
 * `.` and `..` segments resolved (never above the root). Returns null with a
 * reason when the raw path is ambiguous.
 */
export function canonicalPath(rawPath: string): { path: string } | { reason: string } {
  if (!rawPath.startsWith("/")) return { reason: "the path must start with /" };
  if (hasForbiddenRaw(rawPath, true)) return { reason: "control character, space or backslash in the path" };
  if (rawPath.includes(";")) return { reason: "path parameters (;) are refused" };
  if (rawPath.includes("#")) return { reason: "fragment in the request target" };
  for (let i = rawPath.indexOf("%"); i !== -1; i = rawPath.indexOf("%", i + 1)) {
    const hex = rawPath.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) return { reason: "malformed percent-encoding" };
    if (ambiguousEncoded(parseInt(hex, 16))) return { reason: "ambiguous percent-encoding in the path" };
  }
  let decoded: string;
  try {
    decoded = rawPath.includes("%") ? decodeURIComponent(rawPath) : rawPath;
  } catch {
    return { reason: "malformed percent-encoding" };
  }
  const out: string[] = [];
  const segments = decoded.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    const last = i === segments.length - 1;
    if (segment === "" && !last) continue;
    if (segment === ".") {
      if (last) out.push("");
      continue;
    }
    if (segment === "..") {
      out.pop();
      if (last) out.push("");
      continue;
    }
    out.push(segment);
  }
  return { path: `/${out.join("/")}` };
}

/** Splits a raw request target (origin-form) into its canonical parts. */
export function canonicalTarget(rawHost: string, proto: string, uri: string): CanonicalTarget {
  if (proto !== "https" && proto !== "http") return { ok: false, reason: "unknown protocol" };
  if (uri.length === 0 || uri.length > MAX_URI) return { ok: false, reason: "missing or oversized request target" };
  const host = canonicalHost(rawHost, proto);
  if (host === null) return { ok: false, reason: "malformed host" };
  const q = uri.indexOf("?");
  const rawPath = q === -1 ? uri : uri.slice(0, q);
  const query = q === -1 ? "" : uri.slice(q + 1);
  if (hasForbiddenRaw(query, false) || query.includes("#")) return { ok: false, reason: "control character, space or fragment in the query" };
  const path = canonicalPath(rawPath);
  if ("reason" in path) return { ok: false, reason: path.reason };
  return { ok: true, hostname: host.hostname, port: host.port, path: path.path, query };
}
