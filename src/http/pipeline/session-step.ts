import type { FastifyRequest, onRequestHookHandler, preValidationHookHandler } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import type { SessionService } from "../../core/sessions/session-service.js";
import { bearerCredential, tokenStandInSession } from "../../core/tokens/api-token.js";
import type { ApiTokenService } from "../../core/tokens/api-token-service.js";
import { originOf } from "../origin.js";
import { readSessionToken } from "../plugins/session-cookie.js";

/** What the session step needs. */
export interface SessionStepOptions {
  sessions: SessionService;
  tokens: ApiTokenService;
  cookieName: string;
}

/** The session steps: resolving `request.auth`, and the token-field check of routes that declare one. */
export interface SessionSteps {
  /**
   * Resolves `request.auth` from the session cookie; on a signed-in route
   * (`required`), without a valid session, also from an API token in
   * `Authorization: Bearer` (never from the URL or a body, SESS-05), checked
   * under the shared brute-force throttles. A failing lookup fails closed.
   */
  resolveSession(required: boolean): onRequestHookHandler;
  /** Refuses (403) a token-authenticated request whose body carries one of `fields` (a role change in an admin PATCH). */
  refuseTokenFields(fields: readonly string[]): preValidationHookHandler;
}

/** Builds the {@link SessionSteps}. */
export function createSessionSteps(opts: SessionStepOptions): SessionSteps {
  const { sessions, tokens, cookieName } = opts;

  /** The full resolution: the session (through the store when needed), else, when required, an API token. */
  async function resolve(request: FastifyRequest, required: boolean, token: string | null): Promise<void> {
    const valid = token === null ? null : await sessions.validate(token);
    request.auth = valid === null ? null : { ...valid, via: "session" };
    if (request.auth !== null || !required) return;
    const secret = bearerCredential(request.headers.authorization);
    if (secret === null) return;
    const origin = originOf(request);
    const found = await tokens.authenticate(secret, origin);
    if (found) request.auth = { user: found.user, session: tokenStandInSession(found.token, origin), via: "token", token: found.token };
  }

  return {
    resolveSession: (required) =>
      // Callback-style: a fresh cached session is answered synchronously, with no promise and no store access (docs/performance.md).
      function resolveSession(request, _reply, done) {
        const token = readSessionToken(request, cookieName);
        const cached = token === null ? null : sessions.validateCached(token);
        if (cached) {
          request.auth = { ...cached, via: "session" };
          return done();
        }
        // null: no valid session for certain (no cookie, unknown, blocked); undefined: the store must be asked.
        if (cached === null && !required) return done();
        resolve(request, required, cached === undefined ? token : null).then(
          () => done(),
          (err: unknown) => done(err as Error),
        );
      },
    refuseTokenFields: (fields) =>
      function refuseTokenFields(request, _reply, done) {
        const body: unknown = request.body;
        if (request.auth?.via === "token" && typeof body === "object" && body !== null && fields.some((field) => Object.hasOwn(body, field))) {
          return done(new GatehouseError("forbidden"));
        }
        done();
      },
  };
}
