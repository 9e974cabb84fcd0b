import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../../core/errors.js";
import { can } from "../../../../core/rbac/permissions.js";
import { ROLES, type Role } from "../../../../core/users/user.js";
import type { FormErrors } from "../../../../web/components.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { invitationsPage, type InvitationsPageData } from "../../../../web/admin/invitations-page.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { errorsFor } from "../register-pages.js";
import { actorOf, isSudoRefusal, needsSudo, NOTICE_QUERY, sudo, USER_ID_PARAMS } from "./admin-web-support.js";

const ADMIN = { access: "admin" } as const;

function roleOf(form: FormBody | undefined): Role {
  const role = formValue(form, "role", 32) || "user";
  if (!(ROLES as readonly string[]).includes(role)) throw new GatehouseError("invalid_request", { fields: ["role"] });
  return role as Role;
}

/** The form message of a refused invitation or account creation. */
function errorsOf(err: GatehouseError, minLength: number): FormErrors {
  if (err.code === "email_taken") return { fields: { email: "An account already has this address." } };
  if (err.code === "username_taken") return { fields: { username: "This username is already taken." } };
  if (err.code === "forbidden") return { form: "Only a superadmin can give a role above user." };
  if (err.code === "invalid_request" && err.fields?.includes("email")) return { fields: { email: "Enter a valid email address." } };
  return err.fields && err.fields.length > 0 ? errorsFor(err, minLength) : { form: `${err.message}.` };
}

/**
 * `/admin/invitations` (list, invite, revoke), `POST /admin/users` (an account
 * whose owner sets the password from a mailed link) and
 * `POST /admin/users/:id/reset-link`: the same core services as the admin API.
 */
export async function adminInvitationPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { invitations, adminAccounts, config } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, extra: Partial<InvitationsPageData> = {}, status = 200) {
    const actor = actorOf(request);
    const list = await invitations.list(actor, 200);
    const names = await deps.adminDashboard.userNames(list.map((i) => i.createdBy));
    const data: InvitationsPageData = {
      invitations: list,
      now: deps.clock.now(),
      grantable: can(actor.user.role, "admin:grant") ? ROLES : ["user"],
      needsSudo: needsSudo(deps, actor.session),
      names,
      mailEnabled: deps.mailEnabled,
      ...extra,
    };
    return sendPage(reply, invitationsPage(pageContext(request, reply), data), status);
  }

  /** A role above `user` is a sensitive grant: the viewer's password first, when the session needs it (SESS-08). */
  async function actorFor(request: FastifyRequest<{ Body: FormBody }>, reply: FastifyReply, role: Role) {
    const actor = actorOf(request);
    if (role === "user" || !can(actor.user.role, "admin:grant")) return actor;
    return sudo(deps, request, reply, request.body);
  }

  app.get("/admin/invitations", { config: ADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } }, async (request, reply) =>
    render(request, reply),
  );

  app.post<{ Body: FormBody }>("/admin/invitations", { config: ADMIN }, async (request, reply) => {
    const email = formValue(request.body, "email", 1024);
    const rawRole = formValue(request.body, "role", 32);
    const invite = { email, role: rawRole };
    try {
      const role = roleOf(request.body);
      const actor = await actorFor(request, reply, role);
      await invitations.create(actor, { email, role }, { requireMail: true });
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500) throw err;
      const errors = isSudoRefusal(err) ? { form: `${err.message}.`, fields: { password: `${err.message}.` } } : errorsOf(err, config.passwordMinLength);
      return render(request, reply, { invite, inviteErrors: errors }, err.status);
    }
    return seeOther(reply, `${request.basePath}/admin/invitations?notice=invitation_sent`);
  });

  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/invitations/:id/revoke", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    try {
      await invitations.revoke(actorOf(request), request.params.id);
    } catch (err) {
      if (isGatehouseError(err) && (err.code === "not_found" || err.code === "forbidden")) {
        return render(request, reply, { inviteErrors: { form: err.code === "not_found" ? "That invitation is no longer pending." : `${err.message}.` } }, err.status);
      }
      throw err;
    }
    return seeOther(reply, `${request.basePath}/admin/invitations?notice=invitation_revoked`);
  });

  app.post<{ Body: FormBody }>("/admin/users", { config: ADMIN }, async (request, reply) => {
    const username = formValue(request.body, "username", 256);
    const email = formValue(request.body, "email", 1024);
    const create = { username, email, role: formValue(request.body, "role", 32) };
    let id: string;
    try {
      const role = roleOf(request.body);
      const actor = await actorFor(request, reply, role);
      id = (await adminAccounts.createUser(actor, { username, email, role })).id;
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500) throw err;
      const errors = isSudoRefusal(err) ? { form: `${err.message}.`, fields: { password: `${err.message}.` } } : errorsOf(err, config.passwordMinLength);
      return render(request, reply, { create, createErrors: errors }, err.status);
    }
    return seeOther(reply, `${request.basePath}/admin/users/${id}?notice=user_created`);
  });

  app.post<{ Params: { id: string }; Body: FormBody }>("/admin/users/:id/reset-link", { config: ADMIN, schema: { params: USER_ID_PARAMS } }, async (request, reply) => {
    await adminAccounts.sendResetLink(actorOf(request), request.params.id);
    return seeOther(reply, `${request.basePath}/admin/users/${request.params.id}?notice=reset_link_sent`);
  });
}
