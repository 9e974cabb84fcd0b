import type { VaultSecretInfo } from "../../core/vault/vault.js";
import { csrfField, field, formatTime, formError, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage, sudoField } from "./admin-layout.js";

/** What the secrets page shows: metadata only, never a value. */
export interface SecretsPageData {
  secrets: readonly VaultSecretInfo[];
  /** The key names users may store (from the rules file), for the explanation. */
  userKeyNames: readonly string[];
  needsSudo: boolean;
  errors?: FormErrors;
  /** The name typed into the set form (kept after an error; the value never is). */
  name?: string;
}

/** `/admin/secrets` (superadmin): the vault's secrets for upstream apps; write-only (docs/secrets.md). */
export function secretsPage(ctx: PageContext, d: SecretsPageData): SafeHtml {
  const rows = d.secrets.map(
    (s) => html`<tr>
<td data-label="Name"><code>${s.name}</code></td>
<td data-label="Prefix">${s.prefix === null ? html`<span class="muted">hidden</span>` : html`<code>${s.prefix}…</code>`}</td>
<td data-label="Changed">${formatTime(s.updatedAt)}</td>
<td><form class="inline" method="post" action="${href(ctx, `/admin/secrets/${s.name}/delete`)}" data-confirm="Delete the secret ${s.name}? Apps stop receiving it at once.">${csrfField(ctx)}${
      d.needsSudo ? html`<label class="sr-only" for="f-del-pw-${s.name}">Your password</label><input id="f-del-pw-${s.name}" name="password" type="password" autocomplete="current-password" placeholder="Your password" required> ` : ""
    }<button type="submit" class="link danger">Delete</button></form></td>
</tr>`,
  );
  return adminPage(ctx, {
    title: "Secrets",
    body: html`<h1>Secrets</h1>
<section class="card" aria-labelledby="secrets-h">
<h2 id="secrets-h">Secrets for your apps</h2>
<p class="muted">API keys and tokens Gatehouse adds to requests it forwards (the rules file's <code>inject_headers</code>), so the apps never hold them. Encrypted at rest; after saving, only the first 4 characters of a value of 16 or more characters are ever shown. Every change is in the audit log.</p>
${
  d.secrets.length > 0
    ? html`<div class="table-wrap"><table class="responsive">
<thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Changed</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p>No secrets yet.</p>`
}
</section>
<section class="card" aria-labelledby="set-secret-h">
<h2 id="set-secret-h">Add or replace a secret</h2>
${formError(d.errors)}
<form class="stack" method="post" action="${href(ctx, "/admin/secrets")}" autocomplete="off">
${csrfField(ctx)}
${field({ name: "name", label: "Name", value: d.name ?? "", required: true, maxlength: 64, errors: d.errors, hint: html`Lower-case letters, digits, <code>_</code> and <code>-</code>; used as <code>\${secret:name}</code> in the rules file. A name in use is replaced.` })}
${field({ name: "value", label: "Value", type: "password", autocomplete: "off", required: true, maxlength: 8192, errors: d.errors, hint: "Visible characters and spaces, at most 8192; no line breaks." })}
${sudoField(d.needsSudo, d.errors?.fields?.password)}
<button type="submit">Save secret</button>
</form>
</section>
${
  d.userKeyNames.length > 0
    ? html`<section class="card" aria-labelledby="user-keys-h"><h2 id="user-keys-h">Users' own keys</h2><p class="muted">The rules also let each user store their own ${d.userKeyNames.map((n, i) => html`${i > 0 ? ", " : ""}<code>${n}</code>`)} on their account page ("Your keys"); those are sent only with that user's requests and are not listed here.</p></section>`
    : ""
}`,
  });
}
