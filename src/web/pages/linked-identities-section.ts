import type { LinkedIdentityView } from "../../core/oauth/linked-identities.js";
import { csrfField, formatTime, formError, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import type { ProviderButton } from "../provider-buttons.js";

/** What the account page's "Linked accounts" section shows. */
export interface LinkedIdentitiesView {
  /** The identities linked to the account. */
  identities: readonly LinkedIdentityView[];
  /** The enabled providers (the ones not linked yet get a "Link" form). */
  providers: readonly ProviderButton[];
  /** Whether the account has a password (the re-authentication is then a password field, else a provider sign-in). */
  hasPassword: boolean;
  /** True when linking or unlinking needs a re-authentication first (sudo window passed). */
  needsReauth: boolean;
  errors?: FormErrors;
}

/** The password field of a sudo form, when the session is not recent and the account has a password. */
function passwordField(view: LinkedIdentitiesView, id: string): SafeHtml {
  if (!view.needsReauth || !view.hasPassword) return html``;
  return html`<label class="sr-only" for="${id}">Your password</label><input id="${id}" name="password" type="password" autocomplete="current-password" placeholder="Your password" required> `;
}

/** A passwordless account re-authenticates by signing in again with one of its (enabled) providers. */
function providerReauth(ctx: PageContext, view: LinkedIdentitiesView): SafeHtml {
  if (!view.needsReauth || view.hasPassword) return html``;
  // GitHub cannot be asked for a fresh sign-in, so it confirms nothing: a new sign-in does (the session is then recent).
  const linked = view.providers.filter((p) => p.freshSignIn && view.identities.some((i) => i.provider === p.id));
  if (linked.length === 0) return html`<p class="muted">Linking or unlinking needs a recent sign-in: sign out and sign in again.</p>`;
  if (ctx.portalUrl !== undefined) return html`<p class="muted">To link or unlink, first sign in again on the <a href="${`${ctx.portalUrl}/account`}">sign-in portal</a>.</p>`;
  return html`<div class="stack" data-reauth>
<p class="muted">Linking or unlinking needs a recent sign-in (yours was more than 10 minutes ago).</p>
${linked.map(
  (p) => html`<form class="inline" method="post" action="${href(ctx, `/api/auth/oauth/${p.id}/start`)}">${csrfField(ctx)}<input type="hidden" name="intent" value="reauth"><input type="hidden" name="return" value="/account"><button type="submit" class="secondary small">Sign in again with ${p.name} to confirm</button></form>`,
)}
</div>`;
}

function identityRows(ctx: PageContext, view: LinkedIdentitiesView): SafeHtml[] {
  return view.identities.map(
    (i) => html`<tr data-identity="${i.provider}">
<td class="wrap" data-label="Provider">${i.providerName}</td>
<td class="wrap" data-label="Email">${i.email ?? html`<span class="muted">none</span>`}</td>
<td data-label="Linked">${formatTime(i.createdAt)}</td>
<td data-label="Last used">${formatTime(i.lastUsedAt)}</td>
<td><form class="inline" method="post" action="${href(ctx, `/account/identities/${i.id}/unlink`)}" data-confirm="${`Unlink ${i.providerName}? You will no longer sign in with it.`}">${csrfField(ctx)}${passwordField(
      view,
      `idp-pw-${i.id}`,
    )}<button type="submit" class="danger small">Unlink</button></form></td>
</tr>`,
  );
}

function linkForms(ctx: PageContext, view: LinkedIdentitiesView): SafeHtml {
  const unlinked = view.providers.filter((p) => !view.identities.some((i) => i.provider === p.id));
  if (unlinked.length === 0) return html``;
  // On a proxied app host the round trip belongs to the portal (its callback and cookie): link there.
  if (ctx.portalUrl !== undefined) return html`<p><a href="${`${ctx.portalUrl}/account`}">Link another account on the sign-in portal</a></p>`;
  return html`<h3>Link an account</h3>
${unlinked.map(
  (p) => html`<form class="row" method="post" action="${href(ctx, `/account/identities/link/${p.id}`)}">${csrfField(ctx)}${passwordField(view, `link-pw-${p.id}`)}<button type="submit" class="secondary">Link ${p.name}</button></form>`,
)}`;
}

/** The account page's linked provider accounts: list, unlink (re-authenticated; never the last way in), link. */
export function linkedIdentitiesSection(ctx: PageContext, view: LinkedIdentitiesView): SafeHtml {
  return html`<section class="card" aria-labelledby="identities-h" id="identities">
<h2 id="identities-h">Linked accounts</h2>
<p class="muted">Sign in with an account you have with an identity provider instead of (or as well as) your password.</p>
${formError(view.errors)}
${view.needsReauth && view.hasPassword ? html`<p class="muted small">Linking or unlinking asks for your password: you signed in more than 10 minutes ago.</p>` : ""}
${providerReauth(ctx, view)}
${
  view.identities.length > 0
    ? html`<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Provider</th><th scope="col">Email</th><th scope="col">Linked</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${identityRows(ctx, view)}</tbody></table></div>`
    : html`<p>No linked accounts.</p>`
}
${linkForms(ctx, view)}
</section>`;
}
