import type { onRequestHookHandler } from "fastify";
import { computeApiSecurityHeaders } from "../plugins/security-headers.js";

/**
 * A reverse-proxied answer keeps the app's own page policy (CSP, framing,
 * isolation); only these stay as defaults under it. The proxy's own refusals
 * (401, 403, 413, 502…) get the full set from the error handler.
 */
const PROXIED_DEFAULTS: ReadonlySet<string> = new Set(["Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy"]);

/** The header steps, one per {@link HeaderSet} that sets something. */
export interface HeaderSteps {
  /** The API set (HDR-01 to HDR-05) and `Cache-Control: no-store` (SESS-13). */
  setApiHeaders: onRequestHookHandler;
  /** The API set; a rendered page replaces the CSP with the page one and adds `no-store` (src/http/routes/web/page.ts). */
  setPageHeaders: onRequestHookHandler;
  /** HSTS, nosniff and Referrer-Policy only, under a proxied app's own headers. */
  setProxiedHeaders: onRequestHookHandler;
}

/** Builds the header steps of a deployment (https or not); the header values are computed once. */
export function createHeaderSteps(secure: boolean): HeaderSteps {
  const headers = computeApiSecurityHeaders(secure);
  const apiHeaders = { ...headers, "Cache-Control": "no-store" };
  const proxied = Object.fromEntries(Object.entries(headers).filter(([name]) => PROXIED_DEFAULTS.has(name)));
  return {
    setApiHeaders: function setApiHeaders(_request, reply, done) {
      reply.headers(apiHeaders);
      done();
    },
    setPageHeaders: function setPageHeaders(_request, reply, done) {
      reply.headers(headers);
      done();
    },
    setProxiedHeaders: function setProxiedHeaders(_request, reply, done) {
      reply.headers(proxied);
      done();
    },
  };
}
