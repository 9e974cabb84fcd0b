import type { PasskeySummary } from "../../core/mfa/webauthn/passkeys.js";
import { formatTime } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";

/** The account page's passkeys: list, add, rename, remove (run by passkeys.js through the JSON API; hidden without it). */
export function passkeysSection(ctx: PageContext, o: { passkeys: readonly PasskeySummary[]; needsReauth: boolean }): SafeHtml {
  const api = (path: string) => href(ctx, `/api/account/mfa/webauthn${path}`);
  const rows = o.passkeys.map(
    (p) => html`<tr>
<td class="wrap" data-label="Name">${p.name}${p.backedUp ? html` <span class="badge">synced</span>` : ""}</td>
<td data-label="Added">${formatTime(p.createdAt)}</td>
<td data-label="Last used">${formatTime(p.lastUsedAt)}</td>
<td>
<form class="inline" data-passkey-rename="${api(`/${p.id}`)}" hidden><label class="sr-only" for="pk-name-${p.id}">New name</label><input id="pk-name-${p.id}" type="text" name="name" value="${p.name}" maxlength="100" required> <button type="submit" class="link">Rename</button></form>
<form class="inline" data-passkey-remove="${api(`/${p.id}`)}" data-reauth-url="${href(ctx, "/api/auth/reauth")}" hidden>${
      o.needsReauth ? html`<label class="sr-only" for="pk-pw-${p.id}">Your password</label><input id="pk-pw-${p.id}" name="password" type="password" autocomplete="current-password" placeholder="Your password" required> ` : ""
    }<button type="submit" class="link danger">Remove</button></form>
</td>
</tr>`,
  );
  return html`<section class="card" aria-labelledby="passkeys-h" id="passkeys">
<h2 id="passkeys-h">Passkeys</h2>
<p class="muted">Sign in with your device's screen lock or a security key instead of a password, or use one as a second factor after it.</p>
<div class="alert alert-error" role="alert" data-passkey-status hidden></div>
${
  o.passkeys.length > 0
    ? html`<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Name</th><th scope="col">Added</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>You have no passkeys.</p>`
}
<form class="stack" data-passkey-add data-options-url="${api("/options")}" data-register-url="${api("/register")}" hidden>
<div class="field"><label for="pk-new-name">Passkey name</label><input id="pk-new-name" type="text" name="name" maxlength="100" placeholder="e.g. “Laptop”"></div>
<button type="submit">Add a passkey</button>
</form>
<noscript><p class="muted">Passkeys need JavaScript.</p></noscript>
</section>`;
}
