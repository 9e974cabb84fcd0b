import { acceptsHtml } from "../accepts-html.js";
import type { IncomingMessage } from "node:http";
import type { AccessGate } from "../../core/gateway/access-decision.js";
import { canonicalHost } from "../../core/gateway/canonical-request.js";
import { createLoopbackRedirect, isHealthPath, isMachineHost } from "./loopback-host.js";

/** The internal path every forwarded request is routed to (after {@link ProxyRouting.rewriteUrl}). */
export const FORWARD_ROUTE = "/_gatehouse/forward";

/** Where the built-in demo app lives on Gatehouse's own host when no upstream is configured. */
export const DEMO_PREFIX = "/demo";

/** How many distinct Host headers the router remembers the upstream of (a flood of made-up hosts only empties the memo). */
const MEMO_HOSTS = 1024;

/** What the router decided a raw request is about, before Fastify routes it. */
export type ProxyTarget =
  | { kind: "upstream"; upstream: URL; uri: string; host: string }
  | { kind: "demo"; uri: string; host: string }
  | { kind: "demo-home" }
  /** Development: a page opened on another loopback spelling of PUBLIC_URL, sent to PUBLIC_URL (see loopback-host.ts). */
  | { kind: "redirect"; location: string };

const kTarget = Symbol("gatehouse.proxyTarget");
const kBasePath = Symbol("gatehouse.basePath");

type MarkedRequest = IncomingMessage & { [kTarget]?: ProxyTarget; [kBasePath]?: string };

/** What the router needs: the rules (for per-host upstreams) and the single-upstream shorthand. */
export interface ProxyRoutingOptions {
  gate: Pick<AccessGate, "upstreamFor" | "rules" | "isProtectedHost">;
  publicUrl: string;
  /** `UPSTREAM_URL`, or null. */
  upstreamUrl: string | null;
  /** Gatehouse's own prefix on proxied hosts, e.g. `/.gatehouse`. */
  pathPrefix: string;
  /** Outside production: send page loads on another loopback spelling of a loopback PUBLIC_URL there. */
  loopbackRedirect?: boolean;
}

/** Host-aware routing of raw requests between Gatehouse's routes and the upstream. */
export interface ProxyRouting {
  /**
   * Fastify's server-level `rewriteUrl`: on a proxied host, Gatehouse's own
   * paths are found under the prefix (stripped here, so the routes need no
   * change) and everything else goes to {@link FORWARD_ROUTE}; on the
   * portal's host, the paths stay at the root and only the demo is forwarded.
   */
  rewriteUrl(req: IncomingMessage): string;
  /** The target marked by {@link ProxyRouting.rewriteUrl}, if the request is forwarded. */
  targetOf(req: IncomingMessage): ProxyTarget | undefined;
  /** "" on the portal's host, the prefix on a proxied host (for requests under it and forwarded ones alike). */
  basePathOf(req: IncomingMessage): string;
  /** The upstream of a host, or null for the portal's host and when nothing is proxied. */
  upstreamOf(host: string): URL | null;
  /** True when the built-in demo is served (no upstream configured anywhere). */
  demoMode(): boolean;
}

/** Creates the {@link ProxyRouting} of one app. */
export function createProxyRouting(options: ProxyRoutingOptions): ProxyRouting {
  const portal = new URL(options.publicUrl);
  const proto = portal.protocol.slice(0, -1);
  const portalHost = canonicalHost(portal.host, proto);
  const single = options.upstreamUrl === null ? null : new URL(options.upstreamUrl);
  const prefix = options.pathPrefix;
  const loopbackRedirect = options.loopbackRedirect === true ? createLoopbackRedirect(portal) : null;

  // The portal is recognized by host name alone: cookies are not isolated by port, so neither is the portal.
  function isPortal(host: string): boolean {
    const c = canonicalHost(host, proto);
    return c !== null && portalHost !== null && c.hostname === portalHost.hostname;
  }

  function resolveUpstream(host: string): URL | null {
    if (host === "" || isPortal(host)) return null;
    return options.gate.upstreamFor(host) ?? single;
  }

  // Every request asks about its Host header, and a deployment serves a handful of hosts:
  // the answers are remembered until the rules change (a SIGHUP reload), at most MEMO_HOSTS of them.
  const memo = new Map<string, URL | null>();
  let memoRules = options.gate.rules();
  function upstreamOf(host: string): URL | null {
    const rules = options.gate.rules();
    if (rules !== memoRules || memo.size >= MEMO_HOSTS) {
      memo.clear();
      memoRules = rules;
    }
    let upstream = memo.get(host);
    if (upstream === undefined) {
      upstream = resolveUpstream(host);
      if (host.length <= 255) memo.set(host, upstream);
    }
    return upstream;
  }

  // Per-host upstreams can appear on a rules reload: the demo steps aside as soon as anything is proxied.
  const demoMode = (): boolean => single === null && options.gate.rules().upstreams.length === 0;

  return {
    rewriteUrl(req) {
      const marked = req as MarkedRequest;
      const url = req.url ?? "/";
      const host = typeof req.headers.host === "string" ? req.headers.host : "";
      if (loopbackRedirect !== null) {
        const location = loopbackRedirect(req);
        // A loopback host the access rules name is theirs: never redirected away.
        if (location !== null && !options.gate.isProtectedHost(host)) {
          marked[kTarget] = { kind: "redirect", location };
          return FORWARD_ROUTE;
        }
      }
      const upstream = upstreamOf(host);
      // Health checks by address (or `localhost`) are Gatehouse's even when every other host is proxied;
      // on an app's own host they are under the prefix, and the app keeps its /healthz.
      if (upstream !== null && isHealthPath(url) && isMachineHost(host, proto)) return url;
      if (upstream !== null) {
        if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) {
          marked[kBasePath] = prefix;
          const rest = url.slice(prefix.length);
          return rest.startsWith("/") ? rest : `/${rest}`;
        }
        // Gatehouse's own pages (an error page, the sign-in link) are under the prefix on this host.
        marked[kBasePath] = prefix;
        marked[kTarget] = { kind: "upstream", upstream, uri: url, host };
        return FORWARD_ROUTE;
      }
      if (demoMode()) {
        const q = url.indexOf("?");
        const path = q === -1 ? url : url.slice(0, q);
        if (path === DEMO_PREFIX || path.startsWith(`${DEMO_PREFIX}/`)) {
          marked[kTarget] = { kind: "demo", uri: url, host };
          return FORWARD_ROUTE;
        }
        if (path === "/" && (req.method === "GET" || req.method === "HEAD") && acceptsHtml(req.headers.accept) && req.headers.upgrade === undefined) {
          marked[kTarget] = { kind: "demo-home" };
          return FORWARD_ROUTE;
        }
      }
      return url;
    },
    targetOf: (req) => (req as MarkedRequest)[kTarget],
    basePathOf: (req) => (req as MarkedRequest)[kBasePath] ?? "",
    upstreamOf,
    demoMode,
  };
}
