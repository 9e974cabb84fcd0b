import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AuditExportFilter } from "../../../../core/admin/admin-dashboard.js";
import type { Actor } from "../../../../core/admin/admin-service.js";
import { AUDIT_EVENT_TYPES, type AuditEventType } from "../../../../core/audit/audit-event.js";
import { GatehouseError, isGatehouseError } from "../../../../core/errors.js";
import { auditPage, type AuditFilterForm } from "../../../../web/admin/audit-page.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, sendPage } from "../page.js";
import { actorOf, NOTICE_QUERY } from "./admin-web-support.js";

const ADMIN = { access: "admin" } as const;

interface AuditQuery {
  type?: AuditEventType | "";
  user?: string;
  ip?: string;
  from?: string;
  to?: string;
  cursor?: string;
}

const filterProperties = {
  type: { type: "string", enum: ["", ...AUDIT_EVENT_TYPES] },
  user: { type: "string", maxLength: 255 },
  ip: { type: "string", maxLength: 64 },
  from: { type: "string", maxLength: 40 },
  to: { type: "string", maxLength: 40 },
} as const;

/** A `datetime-local` value (no zone) read as UTC, or an ISO-8601 time; 400 otherwise. */
function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const text = value.trim();
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(text) ? `${text}Z` : text);
  if (Number.isNaN(ms)) throw new GatehouseError("invalid_request", { fields: [field] });
  return ms;
}

/** Only an IP-ish value is a filter (letters, digits, `.`, `:`, `%`); anything else matches nothing anyway. */
function cleanIp(value: string | undefined): string | undefined {
  const ip = value?.trim() ?? "";
  return ip === "" ? undefined : ip;
}

/**
 * The filters of the page as store filters. An unknown user gives `null`:
 * the answer is then an empty page (never every event).
 */
async function toFilter(deps: AppDeps, actor: Actor, q: AuditQuery): Promise<AuditExportFilter | null> {
  const from = parseTime(q.from, "from");
  const to = parseTime(q.to, "to");
  const ip = cleanIp(q.ip);
  let userId: string | undefined;
  if (q.user !== undefined && q.user.trim() !== "") {
    const user = await deps.adminDashboard.findUser(actor, q.user);
    if (user === null) return null;
    userId = user.id;
  }
  return {
    ...(q.type ? { type: q.type } : {}),
    ...(userId ? { userId } : {}),
    ...(ip ? { ip } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
  };
}

function formOf(q: AuditQuery): AuditFilterForm {
  return { type: q.type ?? "", user: q.user ?? "", ip: q.ip ?? "", from: q.from ?? "", to: q.to ?? "" };
}

/** `/admin/audit` (filters, cursor pages) and `/admin/audit.csv` (the same filters, streamed, formula-safe). */
export async function adminAuditPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: AuditQuery }>(
    "/admin/audit",
    {
      config: ADMIN,
      schema: { querystring: { type: "object", additionalProperties: false, properties: { ...NOTICE_QUERY, ...filterProperties, cursor: { type: "string", maxLength: 200 } } } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const form = formOf(request.query);
      let filter: AuditExportFilter | null;
      try {
        filter = await toFilter(deps, actor, request.query);
      } catch (err) {
        if (!isGatehouseError(err) || err.code !== "invalid_request") throw err;
        const error = `Check the ${err.fields?.join(" and ") ?? "filters"}: use a date and time such as 2026-01-31T13:00.`;
        return sendPage(reply, auditPage(pageContext(request, reply), { filter: form, events: [], next: null, error }), 400);
      }
      const page =
        filter === null
          ? { events: [], nextCursor: null }
          : await deps.admin.searchAudit(actor, { ...filter, limit: 50, ...(request.query.cursor ? { cursor: request.query.cursor } : {}) });
      const error = filter === null ? "No user has that name, email or ID." : undefined;
      const names = await deps.adminDashboard.userNames(page.events.flatMap((e) => [e.userId, e.actorId]));
      return sendPage(reply, auditPage(pageContext(request, reply), { filter: form, events: page.events, names, next: page.nextCursor, ...(error ? { error } : {}) }));
    },
  );

  app.get<{ Querystring: AuditQuery }>(
    "/admin/audit.csv",
    { config: ADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: filterProperties } } },
    async (request: FastifyRequest<{ Querystring: AuditQuery }>, reply) => {
      const actor = actorOf(request);
      const filter = await toFilter(deps, actor, request.query);
      if (filter === null) throw new GatehouseError("not_found");
      const stamp = new Date(deps.clock.now()).toISOString().slice(0, 19).replace(/[-:]/g, "");
      return reply
        .type("text/csv; charset=utf-8")
        .header("Content-Disposition", `attachment; filename="gatehouse-audit-${stamp}.csv"`)
        .header("Cache-Control", "no-store")
        .send(Readable.from(deps.adminDashboard.exportAudit(actor, filter)));
    },
  );
}
