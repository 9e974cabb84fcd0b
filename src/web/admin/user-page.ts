import type { AuditEvent } from "../../core/audit/audit-event.js";
import type { LinkedIdentityView } from "../../core/oauth/linked-identities.js";
import type { Session } from "../../core/sessions/session.js";
import { ROLES, type Role, type User } from "../../core/users/user.js";
import { csrfField, formatTime, postButton } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { describeSignIn } from "../sign-in-methods.js";
import { describeUserAgent } from "../user-agent.js";
import { adminPage, roleBadge, statusBadge, sudoField } from "./admin-layout.js";
import { auditTable } from "./audit-page.js";

/** What the user page shows. */
export interface UserPageData {
  user: User;
  sessions: Session[];
  events: AuditEvent[];
  /** Usernames of the users and actors of `events`. */
  names?: ReadonlyMap<string, string>;
  /** Whether the viewer may change this user's role (superadmin, not themself). */
  canChangeRole: boolean;
  /** Whether the viewer may block, sign out or unlock this user (not a superadmin unless the viewer is one). */
  canManage: boolean;
  /** The second factors the user has (method names; empty: none). */
  factors: string[];
  /** Whether the viewer may reset this user's second factors (`canActOn` with `reset-mfa`: never their own). */
  canResetMfa: boolean;
  /** Whether the reset form must ask for the viewer's password (SESS-08). */
  needsSudo: boolean;
  /** A form-level error to show (a refused action). */
  error?: string;
  /** The user's linked provider accounts; absent when no provider is enabled and none is linked (the card is left out). */
  identities?: readonly LinkedIdentityView[];
}

const FACTOR_NAMES: Record<string, string> = { totp: "Authenticator app (TOTP)", webauthn: "Passkeys", recovery_code: "Recovery codes" };

/** The user's second factors and, when the viewer may, the reset form. */
function secondFactorsCard(ctx: PageContext, d: UserPageData): SafeHtml {
  const u = d.user;
  return html`<section class="card" aria-labelledby="mfa-h">
<h2 id="mfa-h">Second factors</h2>
${
  d.factors.length === 0
    ? html`<p class="muted" data-factors="none">None: this account signs in with a password alone.</p>`
    : html`<ul data-factors="${d.factors.join(" ")}">${d.factors.map((m) => html`<li>${FACTOR_NAMES[m] ?? m}</li>`)}</ul>`
}
${
  d.canResetMfa
    ? html`<form class="stack" method="post" action="${href(ctx, `/admin/users/${u.id}/mfa/reset`)}" data-confirm="${`Reset every second factor of ${u.username}? They are signed out everywhere and mailed, and sign in with their password alone until they add one again.`}">
${csrfField(ctx)}
<p class="muted small">For someone who lost their authenticator and recovery codes: removes every second factor, signs them out everywhere and mails them. Make sure it is really them asking.</p>
${sudoField(d.needsSudo)}
<button type="submit" class="danger">Reset second factors</button>
</form>`
    : ""
}
</section>`;
}

/** The user's linked provider accounts, read-only (the user links and unlinks them on their account page). */
function identitiesCard(identities: readonly LinkedIdentityView[]): SafeHtml {
  return html`<section class="card" aria-labelledby="identities-h">
<h2 id="identities-h">Linked accounts (${identities.length})</h2>
${
  identities.length === 0
    ? html`<p class="muted" data-identities="none">None: this account does not sign in through an identity provider.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Provider</th><th scope="col">Email</th><th scope="col">Linked</th><th scope="col">Last used</th></tr></thead>
<tbody>${identities.map(
        (i) => html`<tr data-identity="${i.provider}"><td class="wrap">${i.providerName}</td><td class="wrap">${i.email ?? html`<span class="muted">none</span>`}</td><td>${formatTime(i.createdAt)}</td><td>${formatTime(i.lastUsedAt)}</td></tr>`,
      )}</tbody></table></div>`
}
</section>`;
}

function sessionRows(ctx: PageContext, user: User, sessions: Session[], canManage: boolean): SafeHtml[] {
  return sessions.map(
    (s) => html`<tr>
<td class="wrap"><span title="${s.userAgent}">${describeUserAgent(s.userAgent)}</span><div class="muted small mono ua">${s.userAgent}</div></td>
<td class="mono nowrap">${s.ip}</td>
<td class="hide-sm">${formatTime(s.createdAt)}<div class="muted small">${describeSignIn(s)}</div></td>
<td>${formatTime(s.lastSeenAt)}</td>
<td>${canManage ? postButton(ctx, `/admin/users/${user.id}/sessions/revoke`, "Revoke", { hidden: { session: s.id }, confirm: "Sign out this session?" }) : ""}</td>
</tr>`,
  );
}

/** `/admin/users/:id`: profile, role, block, sessions and recent events of one user. */
export function userPage(ctx: PageContext, d: UserPageData): SafeHtml {
  const u = d.user;
  const base = `/admin/users/${u.id}`;
  return adminPage(ctx, {
    title: u.username,
    body: html`<p><a href="${href(ctx, "/admin/users")}">← All users</a></p>
<h1 class="wrap">${u.username}</h1>
${d.error ? html`<div class="alert alert-error" role="alert">${d.error}</div>` : ""}
<div class="grid">
<section class="card" aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
<dl class="facts">
<dt>Username</dt><dd class="wrap">${u.username}</dd>
<dt>Email</dt><dd class="wrap">${u.email ?? "none"} ${u.email ? (u.emailVerified ? html`<span class="badge badge-ok">verified</span>` : html`<span class="badge badge-muted">unverified</span>`) : ""}</dd>
<dt>Role</dt><dd>${roleBadge(u.role)}</dd>
<dt>Status</dt><dd>${statusBadge(u.blocked)}</dd>
<dt>Created</dt><dd>${formatTime(u.createdAt)}</dd>
<dt>Last sign-in</dt><dd>${formatTime(u.lastLoginAt)}</dd>
<dt>ID</dt><dd class="mono small">${u.id}</dd>
</dl>
</section>
<section class="card" aria-labelledby="actions-h">
<h2 id="actions-h">Actions</h2>
${
  d.canChangeRole
    ? html`<form class="stack" method="post" action="${href(ctx, `${base}/role`)}">${csrfField(ctx)}
<div class="field"><label for="f-role">Role</label><select id="f-role" name="role">${ROLES.map((r) => html`<option value="${r}"${r === u.role ? html` selected` : ""}>${r}</option>`)}</select></div>
<button type="submit" class="secondary">Change role…</button>
</form>`
    : html`<p class="muted">${ctx.user?.id === u.id ? "You cannot change your own role." : "Only a superadmin can change roles."}</p>`
}
${
  d.canManage
    ? html`<div class="row actions">
${u.blocked
  ? postButton(ctx, `${base}/block`, "Unblock", { hidden: { blocked: "false" }, className: "secondary" })
  : postButton(ctx, `${base}/block`, "Block", { hidden: { blocked: "true" }, className: "danger", confirm: `Block ${u.username}? Every session of this user ends at once.` })}
${postButton(ctx, `${base}/unlock`, "Unlock sign-in", { className: "secondary" })}
${u.email ? postButton(ctx, `${base}/reset-link`, "Send password-reset link", { className: "secondary", confirm: `Mail ${u.username} a link to choose a new password?` }) : ""}
</div>`
    : ""
}
</section>
</div>
${secondFactorsCard(ctx, d)}
${d.identities ? identitiesCard(d.identities) : ""}
<section class="card" aria-labelledby="sessions-h">
<div class="row spread"><h2 id="sessions-h">Sessions (${d.sessions.length})</h2>
${d.canManage && d.sessions.length > 0 ? postButton(ctx, `${base}/sessions/revoke`, "Sign out everywhere", { className: "danger small", confirm: "Sign out every session of this user?" }) : ""}</div>
${
  d.sessions.length === 0
    ? html`<p class="muted">No active sessions.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Device</th><th scope="col">IP</th><th scope="col" class="hide-sm">Signed in</th><th scope="col">Last seen</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${sessionRows(ctx, u, d.sessions, d.canManage)}</tbody></table></div>`
}
</section>
<section class="card" aria-labelledby="events-h">
<div class="row spread"><h2 id="events-h">Recent activity</h2><a href="${href(ctx, `/admin/audit?user=${u.id}`)}">Full audit log →</a></div>
${auditTable(ctx, d.events, d.names)}
</section>`,
  });
}

/** The confirmation step of a role change, with the sudo prompt when needed. */
export function roleConfirmPage(ctx: PageContext, o: { user: User; role: Role; needsSudo: boolean; error?: string }): SafeHtml {
  const u = o.user;
  return adminPage(ctx, {
    title: "Confirm role change",
    body: html`<div class="card narrow-card">
<h1>Change role of <span class="wrap">${u.username}</span>?</h1>
<p>From ${roleBadge(u.role)} to ${roleBadge(o.role)}. Every session of this user ends at once, and the change is recorded in the audit log.</p>
${o.error ? html`<div class="alert alert-error" role="alert">${o.error}</div>` : ""}
<form class="stack" method="post" action="${href(ctx, `/admin/users/${u.id}/role`)}">
${csrfField(ctx)}
<input type="hidden" name="role" value="${o.role}">
<input type="hidden" name="confirm" value="yes">
${sudoField(o.needsSudo)}
<div class="row"><button type="submit" class="danger">Change role to ${o.role}</button> <a class="btn btn-secondary" href="${href(ctx, `/admin/users/${u.id}`)}">Cancel</a></div>
</form>
</div>`,
  });
}
