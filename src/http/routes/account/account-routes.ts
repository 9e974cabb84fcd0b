import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { ValidSession } from "../../../core/sessions/session-service.js";
import { originOf } from "../../origin.js";
import { clearSessionCookie, setSessionCookie } from "../../plugins/session-cookie.js";
import { emptyBody, noContent, pagedResponse, pagination, paginationQuery, passwordField, idParams, sessionItemProperties } from "../../schemas.js";
import type { AppDeps } from "../../types.js";

const sessionItem = {
  type: "object",
  additionalProperties: false,
  properties: { ...sessionItemProperties, current: { type: "boolean" } },
} as const;


function signedIn(request: FastifyRequest): ValidSession {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `/api/account`: the signed-in user's sessions, password and account. */
export async function accountRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, sessions, config } = deps;

  app.get<{ Querystring: { limit?: string; page?: string } }>(
    "/sessions",
    {
      config: { access: "user", token: "read:account" },
      schema: {
        querystring: paginationQuery,
        response: { 200: pagedResponse("sessions", sessionItem) },
      },
    },
    async (request) => {
      const { session, user } = signedIn(request);
      const { limit, offset, page } = pagination(request.query);
      const list = await sessions.list(user.id, limit, offset);
      return {
        page,
        limit,
        sessions: list.map((s) => ({
          id: s.id,
          createdAt: iso(s.createdAt),
          lastSeenAt: iso(s.lastSeenAt),
          expiresAt: iso(s.expiresAt),
          ip: s.ip,
          userAgent: s.userAgent,
          aal: s.aal,
          amr: s.amr,
          current: s.id === session.id,
        })),
      };
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/sessions/:id",
    { config: { access: "user" }, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } },
    async (request, reply) => {
      const { session, user } = signedIn(request);
      if (!(await accounts.revokeSession(user, request.params.id, originOf(request)))) throw new GatehouseError("not_found");
      if (request.params.id === session.id) clearSessionCookie(reply, config);
      return reply.code(204).send();
    },
  );

  app.delete(
    "/sessions",
    { config: { access: "user" }, schema: { body: emptyBody, response: { 200: { type: "object", additionalProperties: false, required: ["revoked"], properties: { revoked: { type: "integer" } } } } } },
    async (request) => {
    const { session, user } = signedIn(request);
    return { revoked: await accounts.revokeOtherSessions(user, session.id, originOf(request)) };
  });

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    "/password",
    {
      config: { access: "user", hashing: true },
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          required: ["currentPassword", "newPassword"],
          properties: { currentPassword: passwordField, newPassword: passwordField },
        },
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      const { session, user } = signedIn(request);
      const issued = await accounts.changePassword(user, session, request.body, originOf(request));
      setSessionCookie(reply, config, issued);
      return reply.code(204).send();
    },
  );

  app.delete<{ Body: { password: string } }>(
    "/",
    {
      config: { access: "user", rateLimit: "accountDelete", hashing: true },
      schema: {
        body: { type: "object", additionalProperties: false, required: ["password"], properties: { password: passwordField } },
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      await accounts.deleteAccount(user, session, request.body.password, originOf(request));
      clearSessionCookie(reply, config);
      return reply.code(204).send();
    },
  );
}
