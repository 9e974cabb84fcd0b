import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../../core/errors.js";
import { canActOn } from "../../../../core/rbac/role-change-rules.js";
import { ROLES, type Role, type User } from "../../../../core/users/user.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { roleConfirmPage, userPage } from "../../../../web/admin/user-page.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { actorOf, isSudoRefusal, needsSudo, NOTICE_QUERY, sudo, USER_ID_PARAMS } from "./admin-web-support.js";

const ADMIN = { access: "admin" } as const;
type IdRequest = FastifyRequest<{ Params: { id: string }; Body: FormBody }>;

function roleOf(form: FormBody | undefined): Role {
  const role = formValue(form, "role", 32);
  if (!(ROLES as readonly string[]).includes(role)) throw new GatehouseError("invalid_request", { fields: ["role"] });
  return role as Role;
}

/** `/admin/users/:id` and its actions: role change (confirmation + sudo), block, sign out, unlock, second-factor reset (sudo). */
export async function adminUserPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { admin } = deps;
  const back = (request: FastifyRequest, id: string, notice: string) => `${request.basePath}/admin/users/${id}?notice=${notice}`;

  async function renderUser(request: IdRequest, reply: FastifyReply, status = 200, error?: string) {
    const actor = actorOf(request);
    const id = request.params.id;
    const user = await admin.getUser(actor, id);
    const [sessions, audit] = await Promise.all([admin.listSessions(actor, id, 50, 0), admin.searchAudit(actor, { userId: id, limit: 20 })]);
    const names = await deps.adminDashboard.userNames(audit.events.flatMap((e) => [e.userId, e.actorId]));
    const viewer = actor.user;
    // The buttons follow the same rule the actions enforce (an admin manages plain users and themself only).
    const canManage = canActOn(viewer, user, "revoke-sessions");
    const factors = await deps.secondFactors.methodsOf(id);
    const identities = await deps.linkedIdentities.list(id);
    const showIdentities = identities.length > 0 || deps.providers.enabled().length > 0;
    return sendPage(
      reply,
      userPage(pageContext(request, reply), {
        user,
        sessions,
        events: audit.events,
        names,
        canChangeRole: viewer.role === "superadmin",
        canManage,
        factors,
        canResetMfa: canActOn(viewer, user, "reset-mfa"),
        needsSudo: needsSudo(deps, actor.session),
        ...(error ? { error } : {}),
        ...(showIdentities ? { identities } : {}),
      }),
      status,
    );
  }

  app.get<{ Params: { id: string } }>(
    "/admin/users/:id",
    { config: ADMIN, schema: { params: USER_ID_PARAMS, querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } },
    async (request, reply) => renderUser(request as IdRequest, reply),
  );

  // Step 1 (no `confirm`): the confirmation page, with the sudo prompt when the session needs it.
  // Step 2 (`confirm=yes`): re-authenticate if needed, then the same AdminService.updateUser as PATCH /api/admin/users/:id.
  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/role", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    const actor = actorOf(request);
    const role = roleOf(request.body);
    if (actor.user.role !== "superadmin") throw new GatehouseError("forbidden");
    const user: User = await admin.getUser(actor, request.params.id);
    if (role === user.role) return seeOther(reply, back(request, user.id, "role_unchanged"));
    const confirmPage = (status: number, error?: string) =>
      sendPage(reply, roleConfirmPage(pageContext(request, reply), { user, role, needsSudo: needsSudo(deps, actorOf(request).session), ...(error ? { error } : {}) }), status);
    if (formValue(request.body, "confirm", 8) !== "yes") return confirmPage(200);
    let acting;
    try {
      acting = await sudo(deps, request, reply, request.body);
    } catch (err) {
      if (isSudoRefusal(err)) return confirmPage(err.status, `${err.message}.`);
      throw err;
    }
    await admin.updateUser(acting, user.id, { role });
    return seeOther(reply, back(request, user.id, "role_changed"));
  });

  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/block", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    const value = formValue(request.body, "blocked", 8);
    if (value !== "true" && value !== "false") throw new GatehouseError("invalid_request", { fields: ["blocked"] });
    const blocked = value === "true";
    try {
      await admin.updateUser(actorOf(request), request.params.id, { blocked });
    } catch (err) {
      // A refusal by the role rules is the 403 page (data-error="forbidden") like every denial; keeping the last
      // superadmin is a conflict shown on the user's page.
      if (err instanceof GatehouseError && err.code === "last_superadmin") return renderUser(request, reply, err.status, `${err.message}.`);
      throw err;
    }
    return seeOther(reply, back(request, request.params.id, blocked ? "user_blocked" : "user_unblocked"));
  });

  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/sessions/revoke", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    const actor = actorOf(request);
    const sessionId = formValue(request.body, "session", 64);
    if (sessionId === "") {
      await admin.revokeSessions(actor, request.params.id);
      return seeOther(reply, back(request, request.params.id, "user_sessions_revoked"));
    }
    const revoked = await admin.revokeSession(actor, request.params.id, sessionId);
    return seeOther(reply, back(request, request.params.id, revoked ? "user_session_revoked" : "session_gone"));
  });

  // An administrator's reset of the user's second factors: re-authenticated (the sudo prompt on the form), then the
  // same reset as DELETE /api/admin/users/:id/mfa.
  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/mfa/reset", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    let acting;
    try {
      acting = await sudo(deps, request, reply, request.body);
    } catch (err) {
      if (isSudoRefusal(err)) return renderUser(request, reply, err.status, `${err.message}.`);
      throw err;
    }
    await deps.resetSecondFactors(request.params.id, { user: acting.user, origin: acting.origin });
    return seeOther(reply, back(request, request.params.id, "user_mfa_reset"));
  });

  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/unlock", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    await admin.unlock(actorOf(request), request.params.id);
    return seeOther(reply, back(request, request.params.id, "user_unlocked"));
  });
}
