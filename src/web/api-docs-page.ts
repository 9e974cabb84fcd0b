import type { ApiOperation, JsonSchema } from "../http/openapi/api-operations.js";
import { fieldsOf } from "../http/openapi/api-operations.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./layout.js";
import { href, type PageContext } from "./page-context.js";

/** A tag (group) of the document, in its order. */
export interface ApiTag {
  name: string;
  description: string;
}

function fieldTable(schema: JsonSchema | null): SafeHtml | string {
  const fields = fieldsOf(schema);
  if (fields.length === 0) return "";
  return html`<div class="table-wrap"><table><thead><tr><th>Field</th><th>Type</th><th>Required</th></tr></thead><tbody>
${fields.map((f) => html`<tr><td><code>${f.name}</code></td><td><code>${f.type}</code></td><td>${f.required ? "yes" : "no"}</td></tr>`)}
</tbody></table></div>`;
}

function schemaDetails(label: string, schema: JsonSchema | null): SafeHtml | string {
  if (schema === null) return "";
  return html`<details><summary>${label}</summary><pre class="mono">${JSON.stringify(schema, null, 2)}</pre></details>`;
}

function operationCard(op: ApiOperation): SafeHtml {
  const params = op.parameters.length === 0
    ? ""
    : html`<h4>Parameters</h4><div class="table-wrap"><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Required</th></tr></thead><tbody>
${op.parameters.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td><code>${p.type}</code></td><td>${p.required ? "yes" : "no"}</td></tr>`)}
</tbody></table></div>`;
  const body = op.requestBody === null
    ? ""
    : html`<h4>Request body <span class="muted">(${op.requestBody.mediaTypes.join(", ")})</span></h4>${fieldTable(op.requestBody.schema)}${schemaDetails("Request schema", op.requestBody.schema)}`;
  return html`<section class="card" id="${`${op.method}-${op.path}`.replace(/[^A-Za-z0-9]+/g, "-")}">
<h3><code>${op.method} ${op.path}</code></h3>
${op.summary ? html`<p>${op.summary}</p>` : ""}
<p><span class="badge">${op.access}</span>${op.tokenScope ? html` <span class="badge badge-muted">token: ${op.tokenScope}</span>` : ""}</p>
<p class="muted">${op.description}</p>
${params}
${body}
<h4>Responses</h4>
<ul>
${op.responses.map((r) => html`<li><strong>${r.status}</strong> ${r.description}${fieldsOf(r.schema).length > 0 ? html`: ${fieldsOf(r.schema).map((f, i) => html`${i > 0 ? ", " : ""}<code>${f.name}</code>`)}` : ""}${r.status.startsWith("2") ? schemaDetails("Response schema", r.schema) : ""}</li>`)}
</ul>
</section>`;
}

/** The operations part of the page (the same for every visitor: built once). */
export function apiDocsBody(tags: readonly ApiTag[], operations: readonly ApiOperation[], title: string, version: string): SafeHtml {
  return html`${tags.map((tag) => {
    const ops = operations.filter((op) => op.tag === tag.name);
    if (ops.length === 0) return "";
    return html`<h2 id="tag-${tag.name}">${tag.name}</h2><p class="muted">${tag.description}</p>${ops.map(operationCard)}`;
  })}<p class="muted">${title} ${version}.</p>`;
}

/**
 * `GET /api/docs`: the API reference as one server-rendered page, from the
 * OpenAPI document — no script of its own, so the page CSP stays as strict
 * as every other page's.
 */
export function apiDocsPage(ctx: PageContext, operationsHtml: SafeHtml, tags: readonly ApiTag[]): SafeHtml {
  return layout(ctx, {
    title: "API reference",
    body: html`<h1>API reference</h1>
<p>The JSON API of this Gatehouse, generated from the routes' own schemas. Machine-readable: <a href="${href(ctx, "/api/openapi.json")}">OpenAPI 3.1 document</a>. Errors are <code>{"error", "code"}</code> bodies (the <code>ErrorBody</code> component).</p>
<nav aria-label="API groups"><p>${tags.map((t, i) => html`${i > 0 ? " · " : ""}<a href="#tag-${t.name}">${t.name}</a>`)}</p></nav>
${operationsHtml}`,
  });
}
