import { invitationStatus, type Invitation } from "../../core/invitations/invitation.js";
import { ROLES, type Role } from "../../core/users/user.js";
import { csrfField, field, formatTime, formError, postButton, type FormErrors } from "../components.js";
import { html, raw, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage, roleBadge, sudoField } from "./admin-layout.js";

/** What the invitations page shows. */
export interface InvitationsPageData {
  invitations: Invitation[];
  now: number;
  /** The roles the viewer may give (an admin: `user` only). */
  grantable: readonly Role[];
  /** Whether giving a role above `user` would ask for the viewer's password first. */
  needsSudo: boolean;
  /** Usernames of the inviters. */
  names?: ReadonlyMap<string, string>;
  inviteErrors?: FormErrors;
  invite?: { email?: string; role?: string };
  createErrors?: FormErrors;
  create?: { username?: string; email?: string; role?: string };
  /** Whether outgoing mail is configured (nothing can be sent otherwise). */
  mailEnabled: boolean;
}

const STATUS_BADGE: Record<string, string> = { pending: "badge-ok", used: "badge-muted", revoked: "badge-danger", expired: "badge-muted" };

function roleSelect(id: string, grantable: readonly Role[], selected: string | undefined): SafeHtml {
  return html`<div class="field"><label for="${id}">Role</label><select id="${id}" name="role">${ROLES.filter((r) => grantable.includes(r)).map(
    (r) => html`<option value="${r}"${r === (selected ?? "user") ? html` selected` : ""}>${r}</option>`,
  )}</select>${grantable.length === 1 ? html`<div class="hint">Only a superadmin can give the admin role.</div>` : ""}</div>`;
}

/** `/admin/invitations`: invite by email, create an account (its owner sets the password), and the invitations so far. */
export function invitationsPage(ctx: PageContext, d: InvitationsPageData): SafeHtml {
  const privileged = d.grantable.length > 1;
  const rows = d.invitations.map((inv) => {
    const status = invitationStatus(inv, d.now);
    return html`<tr>
<td class="wrap">${inv.email}</td>
<td>${roleBadge(inv.role)}</td>
<td><span class="badge ${STATUS_BADGE[status] ?? "badge-muted"}" data-status="${status}">${status}</span></td>
<td class="hide-sm">${inv.createdBy === null ? html`<span class="muted">CLI</span>` : (d.names?.get(inv.createdBy) ?? html`<span class="muted">deleted</span>`)}</td>
<td class="hide-sm">${formatTime(inv.createdAt)}</td>
<td>${status === "pending" ? formatTime(inv.expiresAt) : status === "used" ? formatTime(inv.usedAt) : ""}</td>
<td>${status === "pending" && d.grantable.includes(inv.role) ? postButton(ctx, `/admin/invitations/${inv.id}/revoke`, "Revoke", { className: "danger small", confirm: `Revoke the invitation of ${inv.email}? Its link stops working at once.` }) : ""}</td>
</tr>`;
  });
  return adminPage(ctx, {
    title: "Invitations",
    body: html`<h1>Invitations</h1>
${d.mailEnabled ? "" : html`<div class="alert alert-error" role="alert">Outgoing mail is not configured (SMTP_URL), so no invitation or password link can be sent from here. Use <code>gatehouse user invite &lt;email&gt;</code>, which prints the link.</div>`}
<div class="grid">
<section class="card" aria-labelledby="invite-h">
<h2 id="invite-h">Invite someone</h2>
<p class="muted">They receive a link that works once and for 7 days, choose their own username and password, and get this address and role.</p>
${formError(d.inviteErrors)}
<form class="stack" method="post" action="${href(ctx, "/admin/invitations")}">
${csrfField(ctx)}
${field({ name: "email", label: "Email", type: "email", value: d.invite?.email, autocomplete: "off", required: true, maxlength: 254, errors: d.inviteErrors, id: "f-invite-email" })}
${roleSelect("f-invite-role", d.grantable, d.invite?.role)}
${privileged ? sudoField(d.needsSudo, d.inviteErrors?.fields?.password) : ""}
<button type="submit">Send invitation</button>
</form>
</section>
<section class="card" aria-labelledby="create-h">
<h2 id="create-h">Create an account</h2>
<p class="muted">You choose the username; the owner receives a link to choose the password (you never do). The link works once and for 7 days.</p>
${formError(d.createErrors)}
<form class="stack" method="post" action="${href(ctx, "/admin/users")}">
${csrfField(ctx)}
${field({ name: "username", label: "Username", value: d.create?.username, autocomplete: "off", required: true, maxlength: 64, errors: d.createErrors, id: "f-create-username" })}
${field({ name: "email", label: "Email", type: "email", value: d.create?.email, autocomplete: "off", required: true, maxlength: 254, errors: d.createErrors, id: "f-create-email" })}
${roleSelect("f-create-role", d.grantable, d.create?.role)}
${privileged ? raw(sudoField(d.needsSudo, d.createErrors?.fields?.password).toString().replaceAll("f-sudo-", "f-create-sudo-")) : ""}
<button type="submit">Create account</button>
</form>
</section>
</div>
<section class="card" aria-labelledby="list-h">
<h2 id="list-h">Sent invitations</h2>
${
  d.invitations.length === 0
    ? html`<p class="muted">No invitations yet.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col" class="hide-sm">Invited by</th><th scope="col" class="hide-sm">Sent</th><th scope="col">Expires / used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}
</section>`,
  });
}
