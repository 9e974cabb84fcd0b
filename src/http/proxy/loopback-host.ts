import type { IncomingMessage } from "node:http";
import { isIPv4, isIPv6 } from "node:net";
import { canonicalHost } from "../../core/gateway/canonical-request.js";
import { acceptsHtml } from "../accepts-html.js";

/** The spellings of this machine a browser may use for a development Gatehouse. */
const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Gatehouse's liveness and readiness paths. */
const HEALTH_PATHS = new Set(["/healthz", "/readyz"]);

/** True for `/healthz` and `/readyz`, with or without a query. */
export function isHealthPath(url: string): boolean {
  const q = url.indexOf("?");
  return HEALTH_PATHS.has(q === -1 ? url : url.slice(0, q));
}

/** True when a canonical host name is an IP literal (`10.0.0.5`, `[2001:db8::1]`). */
export function isIpLiteral(hostname: string): boolean {
  return isIPv4(hostname) || (hostname.startsWith("[") && hostname.endsWith("]") && isIPv6(hostname.slice(1, -1)));
}

/**
 * True when a raw Host names this machine by address or as `localhost`
 * rather than by a site name: monitoring checks Gatehouse's health there,
 * in reverse-proxy mode too.
 */
export function isMachineHost(rawHost: string, proto: string): boolean {
  const c = canonicalHost(rawHost, proto);
  return c !== null && (c.hostname === "localhost" || isIpLiteral(c.hostname));
}

/**
 * Development only: where a browser that opened Gatehouse on another
 * loopback spelling of PUBLIC_URL (`127.0.0.1:8080` when PUBLIC_URL is
 * `http://localhost:8080`, or the reverse, or `[::1]`) is sent: the same
 * path and query on PUBLIC_URL's origin, so its cookies and the origin
 * checks line up. Null when PUBLIC_URL is not a loopback URL (nothing is
 * ever redirected then); otherwise a function giving the target of one
 * request, or null for anything else. Never an open redirect: the target is
 * always PUBLIC_URL's origin, and only a page load (GET/HEAD accepting HTML,
 * not an upgrade) from a loopback Host on PUBLIC_URL's own port qualifies;
 * health checks are never redirected.
 */
export function createLoopbackRedirect(publicUrl: URL): ((req: Pick<IncomingMessage, "method" | "url" | "headers">) => string | null) | null {
  const proto = publicUrl.protocol.slice(0, -1);
  const portal = canonicalHost(publicUrl.host, proto);
  if (portal === null || !LOOPBACK_NAMES.has(portal.hostname)) return null;
  return (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") return null;
    if (!acceptsHtml(req.headers.accept) || req.headers.upgrade !== undefined) return null;
    const url = req.url ?? "";
    if (!url.startsWith("/") || isHealthPath(url)) return null;
    const host = typeof req.headers.host === "string" ? canonicalHost(req.headers.host, proto) : null;
    if (host === null || host.hostname === portal.hostname || !LOOPBACK_NAMES.has(host.hostname) || host.port !== portal.port) return null;
    return `${publicUrl.origin}${url}`;
  };
}
