import { canonicalHost } from "../gateway/canonical-request.js";

/**
 * The `aud` of an identity JWT: the app's host as the request named it,
 * lower-cased, without a trailing dot or the scheme's default port
 * (`app.example.com`, `app.example.com:8443`). Null for a malformed host.
 */
export function identityAudience(host: string, proto: string): string | null {
  const c = canonicalHost(host, proto);
  if (c === null) return null;
  return c.port === "" ? c.hostname : `${c.hostname}:${c.port}`;
}
