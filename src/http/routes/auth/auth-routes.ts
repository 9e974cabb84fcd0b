import type { FastifyInstance } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import { toPublicUser } from "../../../core/users/user.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import { clearPendingCookie, readPendingToken } from "../../plugins/pending-cookie.js";
import { clearSessionCookie, readSessionToken, sessionCookieName, setSessionCookie } from "../../plugins/session-cookie.js";
import { emptyBody, noContent, passwordField, statusResponse, str, userResponse } from "../../schemas.js";
import type { AppDeps } from "../../types.js";

const registerBody = {
  type: "object",
  additionalProperties: false,
  required: ["username", "password"],
  properties: { username: str(256), password: passwordField, email: str(1024), invitation: str(256) },
} as const;

/** No query parameters at all: an invitation token is accepted only in the body, never from a URL (logs, Referer). */
const noQuery = { type: "object", additionalProperties: false, maxProperties: 0, properties: {} } as const;

/** The login's answer: the user and its new session, or a pending sign-in awaiting a second factor (no session). */
const loginResponse = {
  oneOf: [
    userResponse,
    {
      type: "object",
      additionalProperties: false,
      required: ["mfa_required", "methods"],
      properties: { mfa_required: { type: "boolean", const: true }, methods: { type: "array", items: { type: "string" } } },
    },
  ],
} as const;

/** `{method, code}`, or `{method, response}` for a passkey (the authenticator's response object, passed on as JSON). */
const mfaVerifyBody = {
  type: "object",
  additionalProperties: false,
  required: ["method"],
  anyOf: [{ required: ["code"] }, { required: ["response"] }],
  properties: { method: str(32), code: str(1024), response: { type: "object", maxProperties: 16 } },
} as const;

const loginBody = {
  type: "object",
  additionalProperties: false,
  required: ["username", "password"],
  properties: { username: str(1024), password: passwordField, remember: { type: "boolean" } },
} as const;

/** The second factor of a verify body: a code as given, or a passkey's response as its JSON text. */
function proofOf(body: { method: string; code?: string; response?: Record<string, unknown> }): { method: string; code: string } {
  if (body.response !== undefined) return { method: body.method, code: JSON.stringify(body.response) };
  return { method: body.method, code: body.code ?? "" };
}

/** `/api/auth`: register (self-service or with an invitation), login, logout, me. */
export async function authRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, config } = deps;
  const cookieName = sessionCookieName(config);

  app.post<{ Body: { username: string; password: string; email?: string; invitation?: string } }>(
    "/register",
    {
      config: { access: "public", rateLimit: "register", hashing: true },
      schema: { querystring: noQuery, body: registerBody, response: { 201: userResponse, 202: statusResponse("verification_sent") } },
    },
    async (request, reply) => {
      // The registration mode, the invitation, the email allow-list and verification (src/core/registration).
      const outcome = await completeSignIn(request, reply, config, (replacing) => deps.registration.register({ ...request.body, replacing }, originOf(request)));
      // Email verification required: the same 202 for new and registered addresses, no session (RST-07).
      if (outcome.status === "verification_sent") return reply.code(202).send({ status: "verification_sent" });
      return reply.code(201).send({ user: toPublicUser(outcome.user) });
    },
  );

  app.post<{ Body: { username: string; password: string; remember?: boolean } }>(
    "/login",
    { config: { access: "public", rateLimit: "login", hashing: true }, schema: { body: loginBody, response: { 200: loginResponse } } },
    async (request, reply) => {
      const { username, password, remember } = request.body;
      const outcome = await completeSignIn(request, reply, config, (replacing) =>
        accounts.login({ login: username, password, remember: remember === true, replacing }, originOf(request)),
      );
      // A second factor is needed: the pending cookie is set, and no session exists yet.
      if (outcome.status === "mfa_required") return { mfa_required: true, methods: outcome.methods };
      return { user: toPublicUser(outcome.user) };
    },
  );

  // Completes a login that answered `mfa_required` (the pending cookie and a second factor give the session);
  // without a pending cookie, a signed-in session steps up (a `two_factor` rule asked for it): new token, aal2.
  app.post<{ Body: { method: string; code?: string; response?: Record<string, unknown> } }>(
    "/mfa/verify",
    { config: { access: "public", rateLimit: "login" }, schema: { body: mfaVerifyBody, response: { 200: userResponse } } },
    async (request, reply) => {
      const token = readPendingToken(request, config);
      const auth = request.auth?.via === "session" ? request.auth : null;
      if (token === null && auth !== null) {
        // The methods come from the server: the session's own plus the verifier's, never from the request.
        const issued = await deps.stepUp.verify(auth, proofOf(request.body), originOf(request));
        setSessionCookie(reply, config, issued);
        return { user: toPublicUser(auth.user) };
      }
      try {
        if (token === null) throw new GatehouseError("sign_in_expired");
        const { user } = await completeSignIn(request, reply, config, (replacing) =>
          deps.pendingSignIn.complete(token, proofOf(request.body), originOf(request), replacing),
        );
        return { user: toPublicUser(user) };
      } catch (err) {
        // A pending sign-in that is gone stays gone: the browser forgets its cookie too.
        if (isGatehouseError(err) && err.code === "sign_in_expired" && token !== null) clearPendingCookie(reply, config);
        throw err;
      }
    },
  );

  app.post("/logout", { config: { access: "public" }, schema: { body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    const token = readSessionToken(request, cookieName);
    if (token !== null) await accounts.logout(token, originOf(request));
    clearSessionCookie(reply, config);
    reply.header("Clear-Site-Data", '"cache", "cookies", "storage"');
    return reply.code(204).send();
  });

  // Re-authentication ("sudo"): the password, or (for a user who has one) a second factor under its own guard.
  app.post<{ Body: { password?: string; method?: string; code?: string } }>(
    "/reauth",
    {
      config: { access: "user", hashing: true },
      schema: {
        body: { type: "object", additionalProperties: false, properties: { password: passwordField, method: str(32), code: str(1024) } },
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      if (!auth) throw new GatehouseError("unauthenticated");
      const { password, method, code } = request.body;
      let issued;
      if (password !== undefined && method === undefined && code === undefined) issued = await accounts.reauthenticate(auth.user, auth.session, password, originOf(request));
      else if (password === undefined && method !== undefined && code !== undefined) issued = await deps.stepUp.reauthenticate(auth, { method, code }, originOf(request));
      else throw new GatehouseError("invalid_request", { fields: ["password", "method", "code"] });
      setSessionCookie(reply, config, issued);
      return reply.code(204).send();
    },
  );

  app.get("/me", { config: { access: "user", token: "read:account" }, schema: { response: { 200: userResponse } } }, async (request) => {
    if (!request.auth) throw new GatehouseError("unauthenticated");
    const user = toPublicUser(request.auth.user);
    return { user: { ...user, mfa: await deps.factorSummaries.summaryOf(user.id) } };
  });
}
