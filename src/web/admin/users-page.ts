import type { UserListPage } from "../../core/admin/admin-dashboard.js";
import { ROLES } from "../../core/users/user.js";
import { formatTime } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage, queryString, roleBadge, statusBadge } from "./admin-layout.js";

/** The filters of the user list as the form (and the pager links) carry them. */
export interface UsersFilterForm {
  q: string;
  role: string;
  status: string;
  limit: number;
}

function option(value: string, label: string, selected: string): SafeHtml {
  return html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
}

/** `/admin/users`: prefix search, role and status filters, keyset pages of newest users first. */
export function usersPage(ctx: PageContext, f: UsersFilterForm, page: UserListPage): SafeHtml {
  const keep = { q: f.q, role: f.role, status: f.status, limit: f.limit === 50 ? undefined : String(f.limit) };
  const rows = page.users.map(
    (u) => html`<tr>
<td class="wrap"><a href="${href(ctx, `/admin/users/${u.id}`)}">${u.username}</a></td>
<td class="wrap">${u.email ?? html`<span class="muted">none</span>`}</td>
<td>${roleBadge(u.role)}</td>
<td>${statusBadge(u.blocked)}</td>
<td class="hide-sm">${formatTime(u.createdAt)}</td>
<td class="hide-sm">${formatTime(u.lastLoginAt)}</td>
</tr>`,
  );
  return adminPage(ctx, {
    title: "Users",
    body: html`<h1>Users</h1>
<form class="card filters" method="get" action="${href(ctx, "/admin/users")}" role="search">
<div class="field grow"><label for="f-q">Username or email starts with</label><input id="f-q" name="q" type="search" value="${f.q}" maxlength="100" autocomplete="off"></div>
<div class="field"><label for="f-role">Role</label><select id="f-role" name="role">${option("", "Any role", f.role)}${ROLES.map((r) => option(r, r, f.role))}</select></div>
<div class="field"><label for="f-status">Status</label><select id="f-status" name="status">${option("", "Any status", f.status)}${option("active", "Active", f.status)}${option("blocked", "Blocked", f.status)}</select></div>
<div class="field"><button type="submit">Search</button></div>
</form>
<p class="muted" role="status">${
    page.totalCapped ? `More than ${page.total.toLocaleString("en-US")} users match.` : `${page.total.toLocaleString("en-US")} ${page.total === 1 ? "user matches" : "users match"}.`
  }</p>
${
  page.users.length === 0
    ? html`<div class="card"><p>No users match these filters.</p></div>`
    : html`<div class="card table-wrap"><table>
<caption class="sr-only">Users, newest first</caption>
<thead><tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="hide-sm">Created</th><th scope="col" class="hide-sm">Last sign-in</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}
<nav class="pager" aria-label="Pages">
${page.prev ? html`<a rel="prev" href="${href(ctx, `/admin/users${queryString({ ...keep, before: page.prev })}`)}">← Newer</a>` : ""}
${page.next ? html`<a rel="next" href="${href(ctx, `/admin/users${queryString({ ...keep, after: page.next })}`)}">Older →</a>` : ""}
</nav>`,
  });
}
