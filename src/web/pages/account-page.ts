import type { Session } from "../../core/sessions/session.js";
import type { ApiToken, TokenScope } from "../../core/tokens/api-token.js";
import type { User } from "../../core/users/user.js";
import { checkbox, csrfField, field, formError, formatTime, postButton, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { layout } from "../layout.js";
import { href, type PageContext } from "../page-context.js";
import { describeSignIn } from "../sign-in-methods.js";
import { describeUserAgent } from "../user-agent.js";
import type { PasskeySummary } from "../../core/mfa/webauthn/passkeys.js";
import { linkedIdentitiesSection, type LinkedIdentitiesView } from "./linked-identities-section.js";
import { passkeysSection } from "./passkeys-section.js";
import { yourKeysSection, type YourKeysView } from "./your-keys-section.js";

/** What the account page shows. */
export interface AccountView {
  user: User;
  currentSessionId: string;
  sessions: Session[];
  tokens: ApiToken[];
  /** The user's passkeys; absent when passkeys are not available (the section is left out). */
  passkeys?: PasskeySummary[];
  /** Scopes this user's role can use (others would be inert). */
  scopes: readonly TokenScope[];
  /** True when creating a token (or changing the password) needs the password again (sudo window passed). */
  needsReauth: boolean;
  passwordHint: SafeHtml;
  /** True when the change-email page exists (the email pages are installed). */
  changeEmail?: boolean;
  now: number;
  passwordErrors?: FormErrors;
  tokenErrors?: FormErrors;
  deleteErrors?: FormErrors;
  /** True when the user has a confirmed authenticator app. */
  totpEnabled?: boolean;
  /** Errors of the authenticator app's removal form. */
  totpErrors?: FormErrors;
  tokenInput?: { name: string; scopes: readonly string[]; days: string };
  /** A token just created: its secret, shown this one time. */
  created?: { token: ApiToken; secret: string };
  /** The recovery-codes section (absent when the deployment has none). */
  recoveryCodes?: { remaining: number; canMake: boolean };
  recoveryErrors?: FormErrors;
  /** The linked provider accounts; absent when no provider is enabled and none is linked (the section is left out). */
  identities?: Omit<LinkedIdentitiesView, "needsReauth" | "errors">;
  /** Errors of the link and unlink forms. */
  identityErrors?: FormErrors;
  /** "Your keys" (docs/secrets.md); absent when no app uses a key of its users and none is stored (the section is left out). */
  keys?: YourKeysView["keys"];
  keyErrors?: FormErrors;
}

function profile(ctx: PageContext, view: AccountView): SafeHtml {
  const u = view.user;
  return html`<section class="card" aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
<table><tbody>
<tr><th scope="row">Username</th><td class="wrap">${u.username}</td></tr>
<tr><th scope="row">Email</th><td class="wrap">${u.email ?? html`<span class="muted">none</span>`}${
    u.email && !u.emailVerified ? html` <span class="badge badge-danger">unverified</span>` : ""
  }${view.changeEmail ? html` <a href="${href(ctx, "/account/email")}">Change</a>` : ""}</td></tr>
<tr><th scope="row">Role</th><td><span class="badge">${u.role}</span></td></tr>
<tr><th scope="row">Member since</th><td>${formatTime(u.createdAt)}</td></tr>
<tr><th scope="row">Last sign-in</th><td>${formatTime(u.lastLoginAt)}</td></tr>
</tbody></table>
</section>`;
}

function passwordForm(ctx: PageContext, view: AccountView): SafeHtml {
  return html`<section class="card" aria-labelledby="password-h">
<h2 id="password-h">Change password</h2>
<p class="muted">Your other sessions will be signed out; this one stays signed in.</p>
${formError(view.passwordErrors)}
<form class="stack" method="post" action="${href(ctx, "/account/password")}">
${csrfField(ctx)}
<input type="text" name="username" value="${view.user.username}" autocomplete="username" hidden>
${field({ name: "currentPassword", label: "Current password", type: "password", autocomplete: "current-password", required: true, errors: view.passwordErrors })}
${field({ name: "newPassword", label: "New password", type: "password", autocomplete: "new-password", required: true, errors: view.passwordErrors, hint: view.passwordHint })}
<button type="submit">Change password</button>
</form>
</section>`;
}

function sessionsList(ctx: PageContext, view: AccountView): SafeHtml {
  const rows = view.sessions.map((s) => {
    const current = s.id === view.currentSessionId;
    return html`<tr>
<td class="wrap" data-label="Device"><span title="${s.userAgent}">${describeUserAgent(s.userAgent)}</span>${current ? html` <span class="badge">This device</span>` : ""}
<div class="muted mono ua">${s.userAgent}</div></td>
<td class="mono" data-label="IP address">${s.ip}</td>
<td data-label="Last seen">${formatTime(s.lastSeenAt)}</td>
<td data-label="Signed in">${formatTime(s.createdAt)}<div class="muted small">${describeSignIn(s)}</div></td>
<td>${current ? "" : postButton(ctx, `/account/sessions/${s.id}/revoke`, "Sign out", { confirm: "Sign out this session?" })}</td>
</tr>`;
  });
  return html`<section class="card" aria-labelledby="sessions-h">
<div class="row spread"><h2 id="sessions-h">Sessions</h2>
${view.sessions.length > 1 ? postButton(ctx, "/account/sessions/revoke-others", "Sign out all other sessions", { confirm: "Sign out every other session?", className: "danger small" }) : ""}</div>
<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Device</th><th scope="col">IP address</th><th scope="col">Last seen</th><th scope="col">Signed in</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
</section>`;
}

function createdToken(created: NonNullable<AccountView["created"]>): SafeHtml {
  return html`<div class="alert alert-warn" role="status">
<p><strong>Your new token “${created.token.name}”.</strong> Copy it now: it will not be shown again.</p>
<div class="secret"><code id="new-token">${created.secret}</code><button type="button" class="small" data-copy="#new-token" hidden>Copy</button></div>
</div>`;
}

function tokensList(ctx: PageContext, view: AccountView): SafeHtml {
  const input = view.tokenInput ?? { name: "", scopes: view.scopes.length === 1 ? [...view.scopes] : [], days: "90" };
  const rows = view.tokens.map(
    (t) => html`<tr>
<td class="wrap" data-label="Name">${t.name}<div class="muted mono">${t.prefix}…</div></td>
<td data-label="Scopes">${t.scopes.map((s) => html`<span class="badge">${s}</span> `)}</td>
<td data-label="Expires">${t.expiresAt <= view.now ? html`<span class="badge badge-danger">expired</span>` : formatTime(t.expiresAt)}</td>
<td data-label="Last used">${formatTime(t.lastUsedAt)}</td>
<td>${postButton(ctx, `/account/tokens/${t.id}/revoke`, "Revoke", { confirm: "Revoke this token? Scripts using it will stop working." })}</td>
</tr>`,
  );
  return html`<section class="card" aria-labelledby="tokens-h">
<h2 id="tokens-h">API tokens</h2>
<p class="muted">For scripts and tools: send as <code>Authorization: Bearer …</code>. A token can never change your password or create other tokens.</p>
${view.created ? createdToken(view.created) : ""}
${
  view.tokens.length > 0
    ? html`<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>You have no API tokens.</p>`
}
<h3>New token</h3>
${formError(view.tokenErrors)}
<form class="stack" method="post" action="${href(ctx, "/account/tokens")}">
${csrfField(ctx)}
${field({ name: "name", label: "Name", value: input.name, required: true, maxlength: 100, errors: view.tokenErrors, hint: "What will use it, e.g. “backup script”." })}
<fieldset><legend>Scopes</legend>
${view.scopes.map((s) => checkbox({ name: "scopes", value: s, label: s, checked: input.scopes.includes(s) }))}
${view.tokenErrors?.fields?.scopes ? html`<div class="field-error">${view.tokenErrors.fields.scopes}</div>` : ""}
</fieldset>
${field({ name: "expiresInDays", label: "Expires after (days)", type: "number", value: input.days, min: 1, max: 365, required: true, errors: view.tokenErrors, hint: "1 to 365 days." })}
${
  view.needsReauth
    ? field({ name: "password", label: "Confirm your password", type: "password", autocomplete: "current-password", required: true, errors: view.tokenErrors, hint: "Needed because you signed in more than 10 minutes ago." })
    : ""
}
<button type="submit">Create token</button>
</form>
</section>`;
}

function secondFactors(ctx: PageContext, view: AccountView): SafeHtml {
  const app = view.totpEnabled
    ? html`<p>Authenticator app: <span class="badge">on</span></p>
${formError(view.totpErrors)}
<form class="stack" method="post" action="${href(ctx, "/account/mfa/totp/remove")}" data-confirm="Remove your authenticator app? Sign-ins will no longer ask for its code.">
${csrfField(ctx)}
${
  view.needsReauth
    ? field({ name: "password", id: "f-totp-password", label: "Confirm your password", type: "password", autocomplete: "current-password", required: true, errors: view.totpErrors, hint: "Needed because you signed in more than 10 minutes ago." })
    : ""
}
<div class="row"><button type="submit" class="danger small">Remove the authenticator app</button> <a href="${href(ctx, "/account/mfa/totp")}">Replace it with a new one</a></div>
</form>`
    : html`<p>Authenticator app: <span class="muted">not set up</span></p>
<p><a class="btn" href="${href(ctx, "/account/mfa/totp")}">Set up an authenticator app</a></p>`;
  return html`<section class="card" aria-labelledby="mfa-h">
<h2 id="mfa-h">Two-factor authentication</h2>
<p class="muted">A second step after your password: a code from an app on your phone.</p>
${app}
</section>`;
}

function recoveryCodesSection(ctx: PageContext, view: AccountView, codes: NonNullable<AccountView["recoveryCodes"]>): SafeHtml {
  return html`<section class="card" aria-labelledby="recovery-h">
<h2 id="recovery-h">Recovery codes</h2>
<p>If you lose your second factor, a recovery code signs you in instead. Each code works once.</p>
<p id="recovery-remaining"><strong>${String(codes.remaining)}</strong> unused ${codes.remaining === 1 ? "code" : "codes"} left.</p>
${formError(view.recoveryErrors)}
${
  codes.canMake
    ? html`<form class="stack" method="post" action="${href(ctx, "/account/recovery-codes")}" data-confirm="${codes.remaining > 0 ? "Make new codes? Your old codes will stop working." : "Make new recovery codes?"}">
${csrfField(ctx)}
${
  view.needsReauth
    ? field({ name: "password", id: "f-recovery-password", label: "Confirm your password", type: "password", autocomplete: "current-password", required: true, errors: view.recoveryErrors, hint: "Needed because you signed in more than 10 minutes ago." })
    : ""
}
<button type="submit">Make new codes</button>
</form>`
    : html`<p class="muted">Set up a second factor (an authenticator app or a passkey) first; recovery codes back it up.</p>`
}
</section>`;
}

/** The page that shows newly made recovery codes, once (the page is never cached). */
export function recoveryCodesPage(ctx: PageContext, codes: readonly string[]): SafeHtml {
  return layout(ctx, {
    title: "Your recovery codes",
    narrow: true,
    body: html`<div class="card">
<h1>Your recovery codes</h1>
<div class="alert alert-warn" role="status"><p><strong>Save these codes now</strong> (print them or keep them in a password manager): they will not be shown again. Your old codes no longer work.</p></div>
<ol class="mono" id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p class="muted">Each code works once, in place of your second factor.</p>
<a href="${href(ctx, "/account")}">Back to your account</a>
</div>`,
  });
}

function deleteAccount(ctx: PageContext, view: AccountView): SafeHtml {
  return html`<section class="card" aria-labelledby="delete-h">
<h2 id="delete-h">Delete account</h2>
<p>This deletes your account and signs out every session at once. It cannot be undone.</p>
${formError(view.deleteErrors)}
<form class="stack" method="post" action="${href(ctx, "/account/delete")}" data-confirm="Delete your account for good?">
${csrfField(ctx)}
${field({ name: "password", id: "f-delete-password", label: "Your password", type: "password", autocomplete: "current-password", required: true, errors: view.deleteErrors })}
<button type="submit" class="danger">Delete my account</button>
</form>
</section>`;
}

/** The signed-in user's account page: profile, password, sessions, passkeys, linked accounts, API tokens, recovery codes. */
export function accountPage(ctx: PageContext, view: AccountView): SafeHtml {
  return layout(ctx, {
    title: "Your account",
    ...(view.passkeys ? { scripts: ["simplewebauthn-browser.js", "passkeys.js"] } : {}),
    body: html`<h1>Your account</h1>
<div class="grid">${profile(ctx, view)}${passwordForm(ctx, view)}</div>
${secondFactors(ctx, view)}
${sessionsList(ctx, view)}
${view.passkeys ? passkeysSection(ctx, { passkeys: view.passkeys, needsReauth: view.needsReauth }) : ""}
${view.identities ? linkedIdentitiesSection(ctx, { ...view.identities, needsReauth: view.needsReauth, ...(view.identityErrors ? { errors: view.identityErrors } : {}) }) : ""}
${tokensList(ctx, view)}
${view.keys ? yourKeysSection(ctx, { keys: view.keys, needsReauth: view.needsReauth, ...(view.keyErrors ? { errors: view.keyErrors } : {}) }) : ""}
${view.recoveryCodes ? recoveryCodesSection(ctx, view, view.recoveryCodes) : ""}
${deleteAccount(ctx, view)}`,
  });
}
