import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { IdentityHeaders } from "../../core/gateway/access-decision.js";
import { isStrippedHeaderName, type HeaderFilter } from "./stripped-headers.js";

/** Hop-by-hop headers (RFC 9110 §7.6.1): meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

/** `Expect: 100-continue` is answered by Gatehouse's own server (Node) and is not repeated to the upstream. */
const ANSWERED_HERE = new Set(["expect"]);

/** Headers the WebSocket client library negotiates itself with the upstream. */
const WEBSOCKET_HANDSHAKE = new Set(["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept", "host"]);

/** Gatehouse's own cookie names, without a `__Host-`/`__Secure-` prefix: the session (host-only and SSO) and the pre-session CSRF cookie. */
const GATEHOUSE_COOKIES = new Set(["gatehouse_session", "gatehouse_csrf"]);

/**
 * True for one of Gatehouse's cookie names: the session cookie in use and
 * its other spellings (`gatehouse_session`, `__Host-…`, the `__Secure-…`
 * single sign-on cookie of COOKIE_DOMAIN) and the pre-session CSRF cookie
 * (`gatehouse_csrf`, `__Host-gatehouse_csrf`). None of them is the app's to
 * read or set. Names are compared exactly, as browsers store them.
 */
export function isGatehouseCookieName(name: string, sessionCookie: string): boolean {
  return name === sessionCookie || GATEHOUSE_COOKIES.has(name.replace(/^__(Host|Secure)-/, ""));
}

/**
 * The `Cookie` header without Gatehouse's cookies, for the protected app:
 * the app (or its logs) never sees a session token, an SSO cookie or a CSRF
 * pre-session. The app's own cookies are kept byte for byte and in their
 * order; a header with no Gatehouse cookie is passed on unchanged; undefined
 * when nothing is left (the header is then not sent at all).
 */
export function withoutGatehouseCookies(cookie: string | string[] | undefined, sessionCookie: string): string | undefined {
  if (cookie === undefined) return undefined;
  const header = Array.isArray(cookie) ? cookie.join("; ") : cookie;
  const parts = header.split(";");
  const isOurs = (part: string): boolean => {
    const eq = part.indexOf("=");
    return isGatehouseCookieName((eq === -1 ? part : part.slice(0, eq)).trim(), sessionCookie);
  };
  if (!parts.some(isOurs)) return header.trim().length > 0 ? header : undefined;
  const kept = parts
    .filter((part) => !isOurs(part))
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  return kept.length > 0 ? kept.join("; ") : undefined;
}

/** What Gatehouse knows about the original request and its user. */
export interface ForwardContext {
  identity: IdentityHeaders;
  /** Client address, resolved through TRUSTED_PROXIES. */
  ip: string;
  proto: string;
  /** The Host the client asked for. */
  host: string;
  /** Name of the session cookie in use (removed from the forwarded `Cookie`, with every other Gatehouse cookie). */
  sessionCookie: string;
  /** Client headers never forwarded (the built-in families plus PROXY_STRIP_HEADERS); default: the built-in families. */
  stripped?: HeaderFilter;
}

/**
 * The headers sent to the upstream: the client's, minus hop-by-hop headers
 * (and any named in `Connection`), minus every client copy of an identity
 * forwarding, path or method header (of Gatehouse, another proxy or a
 * framework; see stripped-headers.ts), minus Gatehouse's cookies; then the identity headers
 * of the decision (always all four, empty when anonymous) and fresh
 * `X-Forwarded-*` set by Gatehouse.
 */
export function forwardHeaders(incoming: IncomingHttpHeaders | OutgoingHttpHeaders, ctx: ForwardContext, options: { websocket?: boolean } = {}): Record<string, string | string[]> {
  const connection = incoming.connection;
  const listed = new Set(
    (typeof connection === "string" ? connection : "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s.length > 0),
  );
  const stripped = ctx.stripped ?? isStrippedHeaderName;
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(incoming)) {
    const name = rawName.toLowerCase();
    if (value === undefined || name.startsWith(":")) continue;
    if (HOP_BY_HOP.has(name) || listed.has(name) || ANSWERED_HERE.has(name) || stripped(name)) continue;
    if (options.websocket && WEBSOCKET_HANDSHAKE.has(name)) continue;
    if (name === "cookie") continue;
    out[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  // Outgoing headers type `cookie` as any; it is a string or a list of strings here as in a request.
  const rawCookie: unknown = incoming.cookie;
  const cookie = withoutGatehouseCookies(rawCookie as string | string[] | undefined, ctx.sessionCookie);
  if (cookie !== undefined) out.cookie = cookie;
  for (const [name, value] of Object.entries(ctx.identity) as [string, string][]) out[name.toLowerCase()] = value;
  out["x-forwarded-for"] = ctx.ip;
  out["x-forwarded-proto"] = ctx.proto;
  out["x-forwarded-host"] = ctx.host;
  return out;
}

/**
 * The upstream's response headers as passed to the client: hop-by-hop headers
 * dropped, and any `Set-Cookie` for a Gatehouse cookie removed (an app can
 * neither plant nor clear a Gatehouse session or CSRF pre-session).
 */
export function responseHeaders(headers: Record<string, string | string[] | number | undefined>, sessionCookie: string): Record<string, string | string[] | number> {
  const connection = headers.connection;
  const listed = new Set(
    (typeof connection === "string" ? connection : "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s.length > 0),
  );
  const out: Record<string, string | string[] | number> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name === "set-cookie") {
      const kept = (Array.isArray(value) ? value : [String(value)]).filter((c) => !isGatehouseCookieName(c.split("=")[0]?.trim() ?? "", sessionCookie));
      if (kept.length > 0) out[name] = kept;
      continue;
    }
    out[name] = value;
  }
  return out;
}
