import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationHookHandler } from "fastify";
import fp from "fastify-plugin";
import { GatehouseError } from "../../core/errors.js";
import { atLeast } from "../../core/rbac/permissions.js";
import type { SessionService } from "../../core/sessions/session-service.js";
import { bearerCredential, tokenAllows, tokenStandInSession } from "../../core/tokens/api-token.js";
import type { ApiTokenService } from "../../core/tokens/api-token-service.js";
import type { Config } from "../../config/config.js";
import { originOf } from "../origin.js";
import type { RequestAuth, TokenRule } from "../types.js";
import { clearSessionCookie, readSessionToken, sessionCookieName } from "./session-cookie.js";

/** True when a token-authenticated request may pass the route's token rule (scopes ∩ the owner's current role, TOK-03). */
function tokenMayCall(auth: Extract<RequestAuth, { via: "token" }>, rule: TokenRule | undefined): boolean {
  if (rule === undefined || rule === false) return false;
  return tokenAllows(auth.token, auth.user.role, typeof rule === "string" ? rule : rule.scope);
}

/**
 * Resolves the session of every routed request into `request.auth` and
 * enforces each route's declared access (AZ-01): `user` routes need a valid
 * session (401 otherwise, and a dead cookie is cleared); a route that
 * declares nothing is denied. A failing lookup fails closed (never 2xx).
 *
 * Without a valid session, a non-public route also accepts an API token from
 * `Authorization: Bearer` (never from the URL or a body, SESS-05), checked
 * under the shared brute-force throttles; such a request passes only routes
 * that declare a `token` rule its scopes and its owner's current role allow.
 */
export const sessionPlugin = fp(
  async (app: FastifyInstance, opts: { sessions: SessionService; tokens: ApiTokenService; config: Config }) => {
    const name = sessionCookieName(opts.config);
    app.decorateRequest("auth", null);
    type Access = NonNullable<FastifyRequest["routeOptions"]["config"]["access"]>;

    /** The full resolution: the session (through the store when needed), else an API token. */
    async function resolve(request: FastifyRequest, access: Access, token: string | null): Promise<void> {
      const valid = token === null ? null : await opts.sessions.validate(token);
      request.auth = valid === null ? null : { ...valid, via: "session" };
      if (request.auth !== null || access === "public") return;
      const secret = bearerCredential(request.headers.authorization);
      if (secret === null) return;
      const origin = originOf(request);
      const found = await opts.tokens.authenticate(secret, origin);
      if (found) request.auth = { user: found.user, session: tokenStandInSession(found.token, origin), via: "token", token: found.token };
    }

    // Callback-style hooks: most requests carry a fresh cached session and are answered
    // synchronously, with no promise and no store access (see docs/performance.md).
    app.addHook("onRequest", (request, _reply, done) => {
      if (request.is404) return done();
      const access = request.routeOptions.config.access;
      if (access === undefined) return done(new GatehouseError("forbidden"));
      const token = readSessionToken(request, name);
      const cached = token === null ? null : opts.sessions.validateCached(token);
      if (cached) {
        request.auth = { ...cached, via: "session" };
        return done();
      }
      resolve(request, access, token).then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
    });

    // Fields a token may never send to a route (a role change in an admin PATCH): checked once the body is
    // parsed, and only on the routes that declare such fields (no hook phase for the others).
    app.addHook("onRoute", (route) => {
      const rule = route.config?.token;
      if (typeof rule !== "object") return;
      const refuseFields: preValidationHookHandler = (request, _reply, done) => {
        const body: unknown = request.body;
        if (request.auth?.via === "token" && typeof body === "object" && body !== null && rule.refuseFields.some((field) => Object.hasOwn(body, field))) {
          return done(new GatehouseError("forbidden"));
        }
        done();
      };
      const existing = route.preValidation;
      route.preValidation = existing === undefined ? [refuseFields] : [...(Array.isArray(existing) ? existing : [existing]), refuseFields];
    });
  },
  { name: "session", dependencies: ["errors"] },
);

/**
 * Turns away a principal the route's declared access does not admit: 401
 * (and a dead cookie cleared) without one, 403 with the wrong role or a
 * token whose scopes or owner's role fall short. Registered after the route
 * limits, so an anonymous client has been counted by IP before it is turned
 * away, and still before any body is read.
 */
export const accessRefusalPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const name = sessionCookieName(opts.config);
    /** Why the resolved principal may not call this route, or null. */
    function refusal(request: FastifyRequest, reply: FastifyReply): GatehouseError | null {
      const config = request.routeOptions.config;
      const access = config.access;
      if (request.is404 || access === "public" || access === undefined) return null;
      if (request.auth === null) {
        if (readSessionToken(request, name) !== null) clearSessionCookie(reply, opts.config);
        else if (bearerCredential(request.headers.authorization) !== null) reply.header("WWW-Authenticate", 'Bearer error="invalid_token"');
        return new GatehouseError("unauthenticated");
      }
      // Roles are read from the user record on every request (through the 5-second cache, dropped on change;
      // a token's owner is read afresh on every request).
      if (access !== "user" && !atLeast(request.auth.user.role, access)) return new GatehouseError("forbidden");
      if (request.auth.via === "token" && !tokenMayCall(request.auth, config.token)) return new GatehouseError("forbidden");
      return null;
    }
    app.addHook("onRequest", (request, reply, done) => {
      const err = refusal(request, reply);
      done(err ?? undefined);
    });
  },
  { name: "access-refusal", dependencies: ["session", "route-limits"] },
);
