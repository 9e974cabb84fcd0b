import { html, type HtmlValue, type SafeHtml } from "../html.js";
import { layout } from "../layout.js";
import { href, type PageContext } from "../page-context.js";

const SECTIONS: { path: string; label: string; superadmin?: boolean }[] = [
  { path: "/admin", label: "Overview" },
  { path: "/admin/users", label: "Users" },
  { path: "/admin/invitations", label: "Invitations" },
  { path: "/admin/audit", label: "Audit log" },
  { path: "/admin/bans", label: "Banned IPs" },
  { path: "/admin/secrets", label: "Secrets", superadmin: true },
  { path: "/admin/settings", label: "Settings", superadmin: true },
];

function current(ctx: PageContext, path: string): boolean {
  return path === "/admin" ? ctx.path === "/admin" : ctx.path === path || ctx.path.startsWith(`${path}/`);
}

/** The dashboard's section navigation (Settings only for superadmins). */
export function adminNav(ctx: PageContext): SafeHtml {
  const links = SECTIONS.filter((s) => !s.superadmin || ctx.user?.role === "superadmin").map(
    (s) => html`<a href="${href(ctx, s.path)}"${current(ctx, s.path) ? html` aria-current="page"` : ""}>${s.label}</a>`,
  );
  return html`<nav class="subnav" aria-label="Administration">${links}</nav>`;
}

/** A dashboard page: the portal layout with the admin section navigation above the body. */
export function adminPage(ctx: PageContext, o: { title: string; body: HtmlValue }): SafeHtml {
  return layout(ctx, { title: `${o.title} · Admin`, body: html`${adminNav(ctx)}${mfaGraceBanner(ctx)}${o.body}` });
}

/** Within the MFA grace period (AZ-06): the admin is told to add a second factor before administrator functions close to them. */
function mfaGraceBanner(ctx: PageContext): SafeHtml {
  if (ctx.mfaEnrollBy === undefined) return html``;
  return html`<div class="alert alert-warn" role="status" data-mfa-grace="${ctx.mfaEnrollBy}">Administrators must have a second factor. <a href="${href(ctx, "/account/mfa")}">Add one</a> before ${ctx.mfaEnrollBy.slice(0, 16).replace("T", " ")} UTC, or the dashboard closes to you until you do.</div>`;
}

/** A query string from defined, non-empty values (escaped by the template when placed in an attribute). */
export function queryString(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const text = q.toString();
  return text === "" ? "" : `?${text}`;
}

/** The role badge. */
export function roleBadge(role: string): SafeHtml {
  return html`<span class="badge${role === "user" ? " badge-muted" : ""}">${role}</span>`;
}

/** The "Blocked"/"Active" status badge. */
export function statusBadge(blocked: boolean): SafeHtml {
  return blocked ? html`<span class="badge badge-danger">Blocked</span>` : html`<span class="badge badge-ok">Active</span>`;
}

/**
 * The sudo prompt inside a sensitive form (SESS-08): when the session has not
 * re-authenticated recently, the form asks for the admin's own password and
 * the server re-authenticates (rotating the session) before acting.
 */
export function sudoField(needsSudo: boolean, error?: string): SafeHtml {
  if (!needsSudo) return html``;
  return html`<div class="field sudo">
<label for="f-sudo-password">Your password</label>
<input id="f-sudo-password" name="password" type="password" autocomplete="current-password" required aria-describedby="f-sudo-hint${error ? " f-sudo-error" : ""}"${error ? html` aria-invalid="true"` : ""}>
<div class="hint" id="f-sudo-hint">This is a sensitive action: confirm it is you. You will not be asked again for the next few minutes.</div>
${error ? html`<div class="field-error" id="f-sudo-error">${error}</div>` : ""}
</div>`;
}
