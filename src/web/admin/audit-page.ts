import { AUDIT_EVENT_TYPES, type AuditEvent } from "../../core/audit/audit-event.js";
import { formatTime } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage, queryString } from "./admin-layout.js";

/** The audit filters as the form carries them (raw text, re-shown as typed). */
export interface AuditFilterForm {
  type: string;
  user: string;
  ip: string;
  from: string;
  to: string;
}

function details(event: AuditEvent): string {
  return Object.entries(event.details)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
}

function userLink(ctx: PageContext, id: string | null, names: ReadonlyMap<string, string>): SafeHtml | string {
  if (id === null) return "";
  const name = names.get(id);
  return name === undefined
    ? html`<a class="mono small" href="${href(ctx, `/admin/users/${id}`)}" title="${id}">${id.slice(0, 8)}</a>`
    : html`<a href="${href(ctx, `/admin/users/${id}`)}" title="${id}">${name}</a>`;
}

/** A table of audit events; every recorded string (User-Agent, details) is rendered as text. */
export function auditTable(ctx: PageContext, events: readonly AuditEvent[], names: ReadonlyMap<string, string> = new Map()): SafeHtml {
  if (events.length === 0) return html`<p class="muted">No events.</p>`;
  const rows = events.map(
    (e) => html`<tr>
<td><time datetime="${new Date(e.at).toISOString()}">${formatTime(e.at)}</time></td>
<td><span class="badge${e.type.includes("fail") || e.type.includes("lock") || e.type.includes("ban") || e.type === "suspicious_activity" ? " badge-danger" : " badge-muted"}">${e.type}</span></td>
<td class="nowrap">${userLink(ctx, e.userId, names)}</td>
<td class="nowrap hide-sm">${userLink(ctx, e.actorId, names)}</td>
<td class="mono nowrap">${e.ip}</td>
<td class="wrap hide-sm small ua">${e.userAgent}</td>
<td class="wrap small">${details(e)}</td>
</tr>`,
  );
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">User</th><th scope="col" class="hide-sm">Actor</th><th scope="col">IP</th><th scope="col" class="hide-sm">User-Agent</th><th scope="col">Details</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

/** `/admin/audit`: filters (type, user, IP, time), newest events first, a cursor pager and the CSV export. */
export function auditPage(
  ctx: PageContext,
  o: { filter: AuditFilterForm; events: AuditEvent[]; names?: ReadonlyMap<string, string>; next: string | null; error?: string },
): SafeHtml {
  const f = o.filter;
  const keep = { type: f.type, user: f.user, ip: f.ip, from: f.from, to: f.to };
  return adminPage(ctx, {
    title: "Audit log",
    body: html`<div class="row spread"><h1>Audit log</h1><a class="btn btn-secondary" href="${href(ctx, `/admin/audit.csv${queryString(keep)}`)}" download>Export CSV</a></div>
<form class="card filters" method="get" action="${href(ctx, "/admin/audit")}">
<div class="field"><label for="f-type">Event</label><select id="f-type" name="type"><option value="">Any event</option>${AUDIT_EVENT_TYPES.map(
      (t) => html`<option value="${t}"${t === f.type ? html` selected` : ""}>${t}</option>`,
    )}</select></div>
<div class="field"><label for="f-user">User (name, email or ID)</label><input id="f-user" name="user" type="text" value="${f.user}" maxlength="255"></div>
<div class="field"><label for="f-ip">IP</label><input id="f-ip" name="ip" type="text" value="${f.ip}" maxlength="64"></div>
<div class="field"><label for="f-from">From (UTC)</label><input id="f-from" name="from" type="datetime-local" value="${f.from}"></div>
<div class="field"><label for="f-to">To (UTC)</label><input id="f-to" name="to" type="datetime-local" value="${f.to}"></div>
<div class="field"><button type="submit">Filter</button></div>
</form>
${o.error ? html`<div class="alert alert-error" role="alert">${o.error}</div>` : ""}
<div class="card">${auditTable(ctx, o.events, o.names)}</div>
<nav class="pager" aria-label="Pages">
${f.type || f.user || f.ip || f.from || f.to || o.next ? html`<a href="${href(ctx, `/admin/audit${queryString(keep)}`)}">Newest</a>` : ""}
${o.next ? html`<a rel="next" href="${href(ctx, `/admin/audit${queryString({ ...keep, cursor: o.next })}`)}">Older →</a>` : ""}
</nav>`,
  });
}
