/**
 * The client request headers Gatehouse never forwards to a protected app
 * (docs/reverse-proxy.md "Headers sent to the app"): every header another
 * authenticating proxy or a framework would read as the user's identity, the
 * client's address, scheme, host or path, or the request method. An app that
 * trusts another proxy's convention (oauth2-proxy's `X-Forwarded-User`,
 * Pomerium, Cloudflare Access, IIS's `X-Original-URL`…) cannot be talked into
 * it by a client, because the client's copy never reaches it.
 *
 * Names are compared case-insensitively with `_` taken as `-`: CGI-style
 * stacks (WSGI, Rack, PHP) map `X-Forwarded-User` and `X_Forwarded_User` onto
 * the same `HTTP_X_FORWARDED_USER` variable.
 */

/** Whole families, matched by prefix (the normalized name starts with one of them). */
export const STRIPPED_HEADER_PREFIXES: readonly string[] = [
  // Authelia, Gatehouse's own identity headers, Remote-Addr/Remote-Host of CGI-style stacks.
  "remote-",
  // Every X-Forwarded-*: For/Proto/Host/Port/Prefix/Server/Ssl/Uri/Method, oauth2-proxy's User/Email/Groups/
  // Preferred-Username/Access-Token, Traefik's Tls-Client-Cert, Envoy's Client-Cert. Gatehouse sets For/Proto/Host itself.
  "x-forwarded-",
  // oauth2-proxy (X-Auth-Request-User/-Email/-Groups/-Preferred-Username/-Access-Token/-Redirect).
  "x-auth-request-",
  // Pomerium (X-Pomerium-Jwt-Assertion, X-Pomerium-Claim-*).
  "x-pomerium-",
  // Cloudflare (Cf-Access-Authenticated-User-Email, Cf-Access-Jwt-Assertion, Cf-Connecting-Ip, Cf-Visitor, Cf-Ipcountry…).
  "cf-",
  // Paths, hosts and methods a front proxy reports: X-Original-URL/-Host/-Method/-Uri (IIS, Symfony, nginx auth_request).
  "x-original-",
  // X-Remote-User, X-Remote-Addr, X-Remote-Group.
  "x-remote-",
  // Grafana's auth proxy default (X-WEBAUTH-USER), Google IAP, AWS ALB OIDC, Azure App Service, Kong.
  "x-webauth-",
  "x-goog-authenticated-",
  "x-goog-iap-",
  "x-amzn-oidc-",
  "x-ms-client-principal",
  "x-ms-token-",
  "x-authenticated-",
  "x-consumer-",
  // Client certificates forwarded by a TLS-terminating proxy.
  "x-ssl-client-",
  "ssl-client-",
  "x-client-cert",
  // Envoy's internal headers (X-Envoy-Original-Path, X-Envoy-External-Address, X-Envoy-Internal).
  "x-envoy-",
  // Gatehouse's own (the demo app's key).
  "x-gatehouse-",
];

/** Single names outside those families. */
export const STRIPPED_HEADER_NAMES: readonly string[] = [
  // RFC 7239 and the client-address headers frameworks read.
  "forwarded",
  "x-real-ip",
  "x-client-ip",
  "true-client-ip",
  "x-cluster-client-ip",
  "x-proxyuser-ip",
  "fastly-client-ip",
  "x-anonymous-consumer",
  // Path overrides (IIS URL Rewrite, Symfony, Zend, some PHP frameworks).
  "x-rewrite-url",
  // Scheme and host overrides (Werkzeug, Rails, Django, ASP.NET, Microsoft's Front-End-Https).
  "x-url-scheme",
  "x-scheme",
  "front-end-https",
  "x-host",
  // Method overrides: the rules decided on the request's real method; the app must see that same method.
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
];

/** Lower-cased, with `_` read as `-`. */
export function normalizeHeaderName(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/** A test for header names, built from the families above plus an operator's additions. */
export type HeaderFilter = (name: string) => boolean;

/**
 * Builds the test for the headers to remove from a client request.
 * `extra` is the operator's list (PROXY_STRIP_HEADERS): exact names, or
 * families written with a trailing `*` (`X-Corp-*`).
 */
export function createStrippedHeaderFilter(extra: readonly string[] = []): HeaderFilter {
  const names = new Set(STRIPPED_HEADER_NAMES);
  const prefixes = [...STRIPPED_HEADER_PREFIXES];
  for (const raw of extra) {
    const item = normalizeHeaderName(raw.trim());
    if (item.endsWith("*")) prefixes.push(item.slice(0, -1));
    else if (item.length > 0) names.add(item);
  }
  return (name) => {
    const n = normalizeHeaderName(name);
    return names.has(n) || prefixes.some((p) => n.startsWith(p));
  };
}

/** The filter with no operator additions. */
export const isStrippedHeaderName: HeaderFilter = createStrippedHeaderFilter();
