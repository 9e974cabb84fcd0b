import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Actor, AdminService } from "../../../core/admin/admin-service.js";
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventType } from "../../../core/audit/audit-event.js";
import { GatehouseError } from "../../../core/errors.js";
import type { ResetSecondFactors } from "../../../core/mfa/second-factor-reset.js";
import type { Session } from "../../../core/sessions/session.js";
import { ROLES, toPublicUser, type Role } from "../../../core/users/user.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent, pagination, sessionItemProperties, userSchema, idParams, UUID_PATTERN as UUID } from "../../schemas.js";

const limitPage = { limit: { type: "string", pattern: "^[0-9]{1,3}$" }, page: { type: "string", pattern: "^[0-9]{1,6}$" } } as const;
const iso = (ms: number) => new Date(ms).toISOString();

/** A user's session as an admin sees it (the user's own list adds `current`). */
const adminSessionItem = { type: "object", additionalProperties: false, properties: sessionItemProperties } as const;

/** One audit event (docs/api.md, "Audit event types"); `details` holds flat string/number/boolean/null values. */
const auditEventSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    type: { type: "string" },
    at: { type: "string" },
    userId: { type: ["string", "null"] },
    actorId: { type: ["string", "null"] },
    ip: { type: "string" },
    userAgent: { type: "string" },
    requestId: { type: ["string", "null"] },
    details: { type: "object", additionalProperties: { type: ["string", "number", "boolean", "null"] } },
  },
} as const;

const statsSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    users: { type: "integer" },
    activeSessions: { type: "integer" },
    hourly: {
      type: "array",
      items: { type: "object", additionalProperties: false, properties: { hour: { type: "string" }, signIns: { type: "integer" }, failures: { type: "integer" } } },
    },
  },
} as const;

const revokedResponse = { type: "object", additionalProperties: false, required: ["revoked"], properties: { revoked: { type: "integer" } } } as const;

function actorOf(request: FastifyRequest): Actor {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return { user: request.auth.user, session: request.auth.session, origin: originOf(request) };
}

function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new GatehouseError("invalid_request", { fields: [field] });
  return ms;
}

function publicEvent(e: AuditEvent) {
  return { ...e, at: iso(e.at) };
}

/** `/api/admin`: users, their sessions, the audit log, stats and bans (role `admin` or higher). */
export async function adminRoutes(
  app: FastifyInstance,
  deps: { admin: AdminService; resetSecondFactors: ResetSecondFactors; requireRecentAuth(session: Session): void },
): Promise<void> {
  const { admin } = deps;
  const adminOnly = { access: "admin" } as const;
  // API tokens (TOK-03): reads need `admin:read`, changes `admin:write`; a role change (and anything sudo-gated) never.
  const adminRead = { access: "admin", token: "admin:read" } as const;
  const adminWrite = { access: "admin", token: "admin:write" } as const;

  app.get<{ Querystring: { q?: string; role?: Role; blocked?: "true" | "false"; limit?: string; page?: string } }>(
    "/users",
    {
      config: adminRead,
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { q: { type: "string", maxLength: 100 }, role: { type: "string", enum: [...ROLES] }, blocked: { type: "string", enum: ["true", "false"] }, ...limitPage },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: { users: { type: "array", items: userSchema }, total: { type: "integer" }, page: { type: "integer" }, limit: { type: "integer" } },
          },
        },
      },
    },
    async (request) => {
      const { limit, offset, page } = pagination(request.query);
      const { q, role, blocked } = request.query;
      const result = await admin.searchUsers(actorOf(request), {
        limit,
        offset,
        ...(q !== undefined ? { q } : {}),
        ...(role !== undefined ? { role } : {}),
        ...(blocked !== undefined ? { blocked: blocked === "true" } : {}),
      });
      return { users: result.users.map(toPublicUser), total: result.total, page, limit };
    },
  );

  const userResponse = { 200: { type: "object", additionalProperties: false, properties: { user: userSchema } } };

  app.get<{ Params: { id: string } }>("/users/:id", { config: adminRead, schema: { params: idParams, response: userResponse } }, async (request) => ({
    user: toPublicUser(await admin.getUser(actorOf(request), request.params.id)),
  }));

  app.patch<{ Params: { id: string }; Body: { role?: Role; blocked?: boolean } }>(
    "/users/:id",
    {
      config: { ...adminOnly, token: { scope: "admin:write", refuseFields: ["role"] } },
      schema: {
        params: idParams,
        body: {
          type: "object",
          additionalProperties: false,
          minProperties: 1,
          properties: { role: { type: "string", enum: [...ROLES] }, blocked: { type: "boolean" } },
        },
        response: userResponse,
      },
    },
    async (request) => ({ user: toPublicUser(await admin.updateUser(actorOf(request), request.params.id, request.body)) }),
  );

  app.delete<{ Params: { id: string } }>("/users/:id", { config: adminOnly, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    await admin.deleteUser(actorOf(request), request.params.id);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string }; Querystring: { limit?: string; page?: string } }>(
    "/users/:id/sessions",
    {
      config: adminRead,
      schema: {
        params: idParams,
        querystring: { type: "object", additionalProperties: false, properties: limitPage },
        response: {
          200: { type: "object", additionalProperties: false, properties: { sessions: { type: "array", items: adminSessionItem }, page: { type: "integer" }, limit: { type: "integer" } } },
        },
      },
    },
    async (request) => {
      const { limit, offset, page } = pagination(request.query);
      const list = await admin.listSessions(actorOf(request), request.params.id, limit, offset);
      return {
        page,
        limit,
        sessions: list.map((s) => ({ id: s.id, createdAt: iso(s.createdAt), lastSeenAt: iso(s.lastSeenAt), expiresAt: iso(s.expiresAt), ip: s.ip, userAgent: s.userAgent, aal: s.aal, amr: s.amr })),
      };
    },
  );

  app.delete<{ Params: { id: string } }>("/users/:id/sessions", { config: adminWrite, schema: { params: idParams, body: emptyBody, response: { 200: revokedResponse } } }, async (request) => ({
    revoked: await admin.revokeSessions(actorOf(request), request.params.id),
  }));

  app.post<{ Params: { id: string } }>("/users/:id/unlock", { config: adminWrite, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    await admin.unlock(actorOf(request), request.params.id);
    return reply.code(204).send();
  });

  // An administrator's reset of a user's second factors: session-only and re-authenticated, like deleting a user.
  app.delete<{ Params: { id: string } }>(
    "/users/:id/mfa",
    {
      config: adminOnly,
      schema: {
        params: idParams,
        body: emptyBody,
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: { methods: { type: "array", items: { type: "string" } }, sessionsEnded: { type: "integer" } },
          },
        },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      deps.requireRecentAuth(actor.session);
      return deps.resetSecondFactors(request.params.id, { user: actor.user, origin: actor.origin });
    },
  );

  app.get<{ Querystring: { type?: AuditEventType; userId?: string; ip?: string; from?: string; to?: string; limit?: string; cursor?: string } }>(
    "/audit",
    {
      config: adminRead,
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            type: { type: "string", enum: [...AUDIT_EVENT_TYPES] },
            userId: { type: "string", pattern: UUID },
            ip: { type: "string", maxLength: 64 },
            from: { type: "string", maxLength: 40 },
            to: { type: "string", maxLength: 40 },
            limit: limitPage.limit,
            cursor: { type: "string", maxLength: 200 },
          },
        },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["events", "nextCursor"],
            properties: { events: { type: "array", items: auditEventSchema }, nextCursor: { type: ["string", "null"] } },
          },
        },
      },
    },
    async (request) => {
      const { type, userId, ip, cursor } = request.query;
      const from = parseTime(request.query.from, "from");
      const to = parseTime(request.query.to, "to");
      const page = await admin.searchAudit(actorOf(request), {
        limit: pagination(request.query).limit,
        ...(type ? { type } : {}),
        ...(userId ? { userId } : {}),
        ...(ip ? { ip } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return { events: page.events.map(publicEvent), nextCursor: page.nextCursor };
    },
  );

  app.get("/stats", { config: adminRead, schema: { response: { 200: statsSchema } } }, async (request) => admin.stats(actorOf(request)));

  app.get(
    "/bans",
    {
      config: adminRead,
      schema: {
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            required: ["bans"],
            properties: { bans: { type: "array", items: { type: "object", additionalProperties: false, properties: { ip: { type: "string" }, until: { type: "string" } } } } },
          },
        },
      },
    },
    async (request) => ({
    bans: (await admin.listBans(actorOf(request))).map((b) => ({ ip: b.ip, until: iso(b.until) })),
  }));

  app.delete<{ Params: { ip: string } }>(
    "/bans/:ip",
    {
      config: adminWrite,
      schema: {
        params: { type: "object", additionalProperties: false, required: ["ip"], properties: { ip: { type: "string", maxLength: 64 } } },
        body: emptyBody,
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      if (!(await admin.liftBan(actorOf(request), request.params.ip))) throw new GatehouseError("not_found");
      return reply.code(204).send();
    },
  );
}
