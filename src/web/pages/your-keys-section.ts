import type { UserKeyInfo } from "../../core/vault/vault.js";
import { csrfField, field, formatTime, formError, postButton, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";

/** What the "Your keys" section shows: the key names the apps use, and whether one is stored (never a value). */
export interface YourKeysView {
  keys: readonly UserKeyInfo[];
  needsReauth: boolean;
  errors?: FormErrors;
}

/**
 * The account page's "Your keys" ("bring your own key", docs/secrets.md):
 * keys the apps behind Gatehouse receive with this user's own requests. A key
 * is write-only: the page shows whether it is stored and its first characters.
 */
export function yourKeysSection(ctx: PageContext, o: YourKeysView): SafeHtml {
  const rows = o.keys.map(
    (k) => html`<tr>
<td data-label="Name"><code>${k.name}</code>${k.allowed ? "" : html` <span class="badge badge-muted">no longer used</span>`}</td>
<td data-label="Stored">${k.stored ? html`${k.prefix === null ? "yes" : html`<code>${k.prefix}…</code>`}` : html`<span class="muted">not set</span>`}</td>
<td data-label="Changed">${k.updatedAt === null ? "" : formatTime(k.updatedAt)}</td>
<td>${k.stored ? postButton(ctx, `/account/keys/${k.name}/delete`, "Delete", { confirm: `Delete your key ${k.name}?`, className: "link danger" }) : ""}</td>
</tr>`,
  );
  const allowed = o.keys.filter((k) => k.allowed);
  return html`<section class="card" aria-labelledby="keys-h" id="keys">
<h2 id="keys-h">Your keys</h2>
<p class="muted">Keys of your own (an AI provider's API key, for example) that the apps here use on your behalf. Gatehouse adds them to your own requests only; the app never stores them, and nobody can read them back, you included.</p>
${formError(o.errors)}
<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Name</th><th scope="col">Stored</th><th scope="col">Changed</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>
${
  allowed.length > 0
    ? html`<form class="stack" method="post" action="${href(ctx, "/account/keys")}" autocomplete="off">
${csrfField(ctx)}
<div class="field"><label for="f-key-name">Key</label><select id="f-key-name" name="name">${allowed.map((k) => html`<option value="${k.name}">${k.name}</option>`)}</select></div>
${field({ name: "value", id: "f-key-value", label: "Value", type: "password", autocomplete: "off", required: true, maxlength: 8192, errors: o.errors, hint: "Shown once as you type it; afterwards only its first 4 characters (for keys of 16 characters or more)." })}
${o.needsReauth ? field({ name: "password", id: "f-key-password", label: "Your password", type: "password", autocomplete: "current-password", required: true, errors: o.errors }) : ""}
<button type="submit">Save key</button>
</form>`
    : ""
}
</section>`;
}
