import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { isSameOriginRequest } from "../../core/csrf/cross-site-check.js";
import { isValidCsrfToken } from "../../core/csrf/csrf-token.js";
import { hashToken } from "../../core/crypto/tokens.js";
import { GatehouseError } from "../../core/errors.js";
import { bearerCredential } from "../../core/tokens/api-token.js";
import { firstHeader } from "../origin.js";
import { readSessionToken } from "./session-cookie.js";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The cross-site request rule of docs/api.md on every state-changing request,
 * login and logout included: refused with 403 `csrf` before any body is read.
 * Requests authenticated by a Bearer token are exempt (docs/api.md): a signed-in
 * route carrying `Authorization: Bearer` and no session cookie skips the
 * check, and the session plugin then answers 401 before any body is read
 * unless the token is valid. A browser cannot attach that header cross-site.
 */
export const csrfPlugin = fp(
  async (app: FastifyInstance, opts: { publicOrigin: string; cookieName: string; csrfKey: Buffer }) => {
    // Callback-style and synchronous: safe methods (most requests) pass without a promise.
    app.addHook("onRequest", (request, reply, done) => {
      if (!UNSAFE.has(request.method)) return done();
      // The reverse proxy applies the rule itself, and only to requests carrying the session cookie (src/http/proxy).
      if (request.routeOptions.config.proxied === true) return done();
      if (request.routeOptions.config.crossSiteAllowed === true) return done();
      reply.header("Vary", "Sec-Fetch-Site, Origin");
      const h = request.headers;
      const access = request.routeOptions.config.access;
      const signedInRoute = access !== undefined && access !== "public";
      if (signedInRoute && bearerCredential(h.authorization) !== null && readSessionToken(request, opts.cookieName) === null) return done();
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
        // Under the reserved prefix of a proxied host, Gatehouse is served from that host's origin.
        request.basePath === "" ? opts.publicOrigin : `${request.protocol}://${firstHeader(h.host) ?? ""}`,
      );
      done(ok ? undefined : new GatehouseError("csrf"));
    });
  },
  { name: "csrf" },
);
