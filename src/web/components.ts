import { html, type HtmlValue, type SafeHtml } from "./html.js";
import { href, type PageContext } from "./page-context.js";

/** Per-field and form-level error messages of a submitted form. */
export interface FormErrors {
  /** A message for the whole form (shown above it). */
  form?: string;
  /** Messages by field name. */
  fields?: Record<string, string>;
}

/** The hidden CSRF field every form carries (CSRF-03). */
export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;
}

/** Options of {@link field}. */
export interface FieldOptions {
  name: string;
  label: string;
  type?: "text" | "email" | "password" | "number" | "search";
  value?: string | undefined;
  autocomplete?: string;
  required?: boolean;
  hint?: HtmlValue;
  errors?: FormErrors | undefined;
  maxlength?: number;
  min?: number;
  max?: number;
  id?: string;
  autofocus?: boolean;
  /** `data-*` attributes for the script (names are code, never input): `{ "fragment-token": "" }`. */
  data?: Record<string, string>;
}

/**
 * A labelled input with its hint and error (linked by `aria-describedby`).
 * Password inputs get a show/hide toggle (AUTH-07) that the script reveals;
 * their value is never echoed back.
 */
export function field(o: FieldOptions): SafeHtml {
  const id = o.id ?? `f-${o.name}`;
  const error = o.errors?.fields?.[o.name];
  const type = o.type ?? "text";
  const described = [o.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const input = html`<input id="${id}" name="${o.name}" type="${type}"${type === "password" ? "" : html` value="${o.value ?? ""}"`}${
    o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ""
  }${o.required ? html` required` : ""}${o.maxlength ? html` maxlength="${o.maxlength}"` : ""}${o.min !== undefined ? html` min="${o.min}"` : ""}${
    o.max !== undefined ? html` max="${o.max}"` : ""
  }${o.autofocus ? html` autofocus` : ""}${Object.entries(o.data ?? {}).map(([k, v]) => html` data-${k}="${v}"`)}${described ? html` aria-describedby="${described}"` : ""}${error ? html` aria-invalid="true"` : ""}>`;
  return html`<div class="field">
<label for="${id}">${o.label}</label>
${type === "password" ? html`<div class="pw">${input}<button type="button" class="secondary small" data-toggle-password="${id}" aria-pressed="false" hidden>Show</button></div>` : input}
${error ? html`<div class="field-error" id="${id}-error">${error}</div>` : ""}
${o.hint ? html`<div class="hint" id="${id}-hint">${o.hint}</div>` : ""}
</div>`;
}

/** A checkbox with its label. */
export function checkbox(o: { name: string; label: string; value?: string; checked?: boolean; id?: string }): SafeHtml {
  const id = o.id ?? `f-${o.name}-${o.value ?? "on"}`;
  return html`<div class="check"><label for="${id}"><input type="checkbox" id="${id}" name="${o.name}" value="${o.value ?? "on"}"${o.checked ? html` checked` : ""}> ${o.label}</label></div>`;
}

/** The form-level error box (announced to screen readers). */
export function formError(errors: FormErrors | undefined): SafeHtml {
  return errors?.form ? html`<div class="alert alert-error" role="alert">${errors.form}</div>` : html``;
}

/**
 * A one-button POST form (revoke, sign out, …) with its CSRF field and an
 * optional confirmation question (shown by the script; without JS the action
 * still works).
 */
export function postButton(
  ctx: PageContext,
  path: string,
  label: string,
  o: { confirm?: string; className?: string; hidden?: Record<string, string> } = {},
): SafeHtml {
  return html`<form class="inline" method="post" action="${href(ctx, path)}"${o.confirm ? html` data-confirm="${o.confirm}"` : ""}>${csrfField(ctx)}${Object.entries(
    o.hidden ?? {},
  ).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit" class="${o.className ?? "secondary small"}">${label}</button></form>`;
}

/** Formats epoch milliseconds as `YYYY-MM-DD HH:MM UTC`. */
export function formatTime(ms: number | null): string {
  if (ms === null) return "never";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
