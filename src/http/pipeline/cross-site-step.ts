import type { onRequestHookHandler } from "fastify";
import { isSameOriginRequest } from "../../core/csrf/cross-site-check.js";
import { isValidCsrfToken } from "../../core/csrf/csrf-token.js";
import { hashToken } from "../../core/crypto/tokens.js";
import { GatehouseError } from "../../core/errors.js";
import { bearerCredential } from "../../core/tokens/api-token.js";
import { firstHeader } from "../origin.js";
import { readSessionToken } from "../plugins/session-cookie.js";
import { UNSAFE_METHODS } from "./route-needs.js";


/** What the cross-site step needs. */
export interface CrossSiteOptions {
  publicOrigin: string;
  cookieName: string;
  csrfKey: Buffer;
  /**
   * Where Gatehouse is mounted at `PUBLIC_URL`'s origin: "" for the server,
   * the prefix for the library plugin (src/library/fastify). A request under
   * another base path (a proxied host's reserved prefix) is checked against
   * that host's origin.
   */
  mountPath?: string;
}

/**
 * The [cross-site rule](docs/api.md) of state-changing routes, login and
 * logout included: refused with 403 `csrf` before any body is read. A
 * signed-in route called with `Authorization: Bearer` and no session cookie
 * is exempt (a browser cannot attach that header cross-site); the session
 * step then answers 401 unless the token is valid.
 */
export function createCrossSiteStep(opts: CrossSiteOptions): (signedIn: boolean) => onRequestHookHandler {
  const mountPath = opts.mountPath ?? "";
  const atPublicOrigin = (basePath: string | undefined) => basePath === undefined || basePath === mountPath;
  return (signedIn) =>
    function checkCrossSite(request, reply, done) {
      if (!UNSAFE_METHODS.has(request.method)) return done();
      reply.header("Vary", "Sec-Fetch-Site, Origin");
      const h = request.headers;
      if (signedIn && bearerCredential(h.authorization) !== null && readSessionToken(request, opts.cookieName) === null) return done();
      const presented = firstHeader(h["x-csrf-token"]);
      const token = presented === undefined ? null : readSessionToken(request, opts.cookieName);
      const ok = isSameOriginRequest(
        {
          secFetchSite: firstHeader(h["sec-fetch-site"]),
          origin: firstHeader(h.origin),
          referer: firstHeader(h.referer),
          xRequestedWith: firstHeader(h["x-requested-with"]),
          validCsrfToken: token !== null && presented !== undefined && isValidCsrfToken(opts.csrfKey, hashToken(token), presented),
        },
        // Under the reserved prefix of a proxied host, Gatehouse is served from that host's origin. A host app's
        // own route (library plugin) has no base path: it is served at PUBLIC_URL's origin.
        atPublicOrigin(request.basePath) ? opts.publicOrigin : `${request.protocol}://${firstHeader(h.host) ?? ""}`,
      );
      done(ok ? undefined : new GatehouseError("csrf"));
    };
}
