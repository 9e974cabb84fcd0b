import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AdminAccounts } from "../../../core/admin/admin-accounts.js";
import { GatehouseError } from "../../../core/errors.js";
import { invitationStatus, type Invitation } from "../../../core/invitations/invitation.js";
import type { InvitationService, Inviter } from "../../../core/invitations/invitation-service.js";
import { checkRoleGrant } from "../../../core/rbac/role-change-rules.js";
import type { AccountService } from "../../../core/users/account-service.js";
import { ROLES, toPublicUser, type Role, type User } from "../../../core/users/user.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent, statusResponse, str, userSchema, idParams } from "../../schemas.js";

const role = { type: "string", enum: [...ROLES] } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public shape of an invitation: never its token (only the invited person's mail holds the link). */
export const invitationSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string" },
    email: { type: "string" },
    role: { type: "string" },
    status: { type: "string", enum: ["pending", "used", "revoked", "expired"] },
    createdBy: { type: ["string", "null"] },
    createdAt: { type: "string" },
    expiresAt: { type: "string" },
    usedAt: { type: ["string", "null"] },
    usedBy: { type: ["string", "null"] },
    revokedAt: { type: ["string", "null"] },
  },
} as const;

/** Projects an invitation onto its public shape at `now`. */
export function publicInvitation(inv: Invitation, now: number) {
  return {
    id: inv.id,
    email: inv.email,
    role: inv.role,
    status: invitationStatus(inv, now),
    createdBy: inv.createdBy,
    createdAt: iso(inv.createdAt) as string,
    expiresAt: iso(inv.expiresAt) as string,
    usedAt: iso(inv.usedAt),
    usedBy: inv.usedBy,
    revokedAt: iso(inv.revokedAt),
  };
}

function inviterOf(request: FastifyRequest): Inviter & { session: NonNullable<FastifyRequest["auth"]>["session"] } {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return { user: request.auth.user, session: request.auth.session, origin: originOf(request) };
}

/**
 * `/api/admin/invitations` and admin-made accounts (`POST /api/admin/users`,
 * `POST /api/admin/users/:id/reset-link`): role `admin` or higher. Giving a
 * role above `user` needs a superadmin and a recent re-authentication; API
 * tokens (`admin:write`) may invite and create `user` accounts only.
 */
export async function invitationRoutes(
  app: FastifyInstance,
  deps: { invitations: InvitationService; adminAccounts: AdminAccounts; accounts: AccountService; clock: { now(): number } },
): Promise<void> {
  const { invitations, adminAccounts, accounts, clock } = deps;
  const adminRead = { access: "admin", token: "admin:read" } as const;
  const adminWrite = { access: "admin", token: "admin:write" } as const;
  const grantsRole = { access: "admin", token: { scope: "admin:write", refuseFields: ["role"] } } as const;
  /** A privileged role for a new account is a sensitive action (SESS-08), like a role change. */
  const sudoForRole = (actor: ReturnType<typeof inviterOf>, r: Role | undefined) => {
    if (r === undefined || r === "user") return;
    checkRoleGrant(actor.user as User, r);
    accounts.requireRecentAuth(actor.session);
  };

  app.get(
    "/invitations",
    { config: adminRead, schema: { response: { 200: { type: "object", additionalProperties: false, properties: { invitations: { type: "array", items: invitationSchema } } } } } },
    async (request) => {
      const list = await invitations.list(inviterOf(request), 200);
      const now = clock.now();
      return { invitations: list.map((i) => publicInvitation(i, now)) };
    },
  );

  app.post<{ Body: { email: string; role?: Role } }>(
    "/invitations",
    {
      config: grantsRole,
      schema: {
        body: { type: "object", additionalProperties: false, required: ["email"], properties: { email: str(1024), role } },
        response: { 201: { type: "object", additionalProperties: false, properties: { invitation: invitationSchema } } },
      },
    },
    async (request, reply) => {
      const actor = inviterOf(request);
      sudoForRole(actor, request.body.role);
      const created = await invitations.create(actor, request.body, { requireMail: true });
      return reply.code(201).send({ invitation: publicInvitation(created.invitation, clock.now()) });
    },
  );

  app.delete<{ Params: { id: string } }>("/invitations/:id", { config: adminWrite, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    await invitations.revoke(inviterOf(request), request.params.id);
    return reply.code(204).send();
  });

  app.post<{ Body: { username: string; email: string; role?: Role } }>(
    "/users",
    {
      config: grantsRole,
      schema: {
        body: { type: "object", additionalProperties: false, required: ["username", "email"], properties: { username: str(256), email: str(1024), role } },
        response: { 201: { type: "object", additionalProperties: false, properties: { user: userSchema } } },
      },
    },
    async (request, reply) => {
      const actor = inviterOf(request);
      sudoForRole(actor, request.body.role);
      const user = await adminAccounts.createUser(actor, request.body);
      return reply.code(201).send({ user: toPublicUser(user) });
    },
  );

  app.post<{ Params: { id: string } }>("/users/:id/reset-link", { config: adminWrite, schema: { params: idParams, body: emptyBody, response: { 202: statusResponse("sent") } } }, async (request, reply) => {
    await adminAccounts.sendResetLink(inviterOf(request), request.params.id);
    return reply.code(202).send({ status: "sent" });
  });
}
