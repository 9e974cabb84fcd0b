import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../../core/errors.js";
import { ROLES, type Role } from "../../../../core/users/user.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { bansPage } from "../../../../web/admin/bans-page.js";
import { overviewPage } from "../../../../web/admin/overview-page.js";
import { usersPage } from "../../../../web/admin/users-page.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { actorOf, NOTICE_QUERY } from "./admin-web-support.js";

const ADMIN = { access: "admin" } as const;

interface UsersQuery {
  q?: string;
  role?: Role | "";
  status?: "" | "active" | "blocked";
  limit?: string;
  after?: string;
  before?: string;
}

/** `/admin` (overview and chart), `/admin/users` (search, filters, keyset pages) and `/admin/bans`. */
export async function adminOverviewPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { admin, adminDashboard } = deps;

  app.get("/admin", { config: ADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } }, async (request, reply) => {
    const overview = await adminDashboard.overview(actorOf(request));
    return sendPage(reply, overviewPage(pageContext(request, reply), overview));
  });

  app.get<{ Querystring: UsersQuery }>(
    "/admin/users",
    {
      config: ADMIN,
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...NOTICE_QUERY,
            q: { type: "string", maxLength: 100 },
            role: { type: "string", enum: ["", ...ROLES] },
            status: { type: "string", enum: ["", "active", "blocked"] },
            limit: { type: "string", pattern: "^[0-9]{1,3}$" },
            after: { type: "string", maxLength: 200 },
            before: { type: "string", maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const { q = "", role = "", status = "", after, before } = request.query;
      const limit = Math.min(200, Math.max(1, Number(request.query.limit ?? 50)));
      const page = await adminDashboard.listUsers(actorOf(request), {
        limit,
        ...(q.trim() !== "" ? { q } : {}),
        ...(role !== "" ? { role } : {}),
        ...(status !== "" ? { blocked: status === "blocked" } : {}),
        ...(after ? { after } : before ? { before } : {}),
      });
      return sendPage(reply, usersPage(pageContext(request, reply), { q, role, status, limit }, page));
    },
  );

  app.get("/admin/bans", { config: ADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } }, async (request, reply) => {
    const bans = await admin.listBans(actorOf(request));
    return sendPage(reply, bansPage(pageContext(request, reply), bans));
  });

  app.post<{ Body: FormBody }>("/admin/bans/lift", { config: ADMIN }, async (request, reply) => {
    const ip = formValue(request.body, "ip", 64);
    if (ip === "") throw new GatehouseError("invalid_request", { fields: ["ip"] });
    const lifted = await admin.liftBan(actorOf(request), ip);
    return seeOther(reply, `${request.basePath}/admin/bans?notice=${lifted ? "ban_lifted" : "ban_gone"}`);
  });
}
