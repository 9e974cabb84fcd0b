/**
 * Escaping-by-default HTML templating (HDR-06). `html\`…\`` escapes every
 * interpolated value unless it is already {@link SafeHtml} (another `html`
 * result, or an explicit {@link raw}). Arrays are joined, `null`,
 * `undefined` and `false` render as nothing.
 */

/** A fragment of HTML that is safe to insert as is. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** A value that may be interpolated into {@link html}. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };
const ESCAPABLE = /[&<>"'`]/g;

/** Escapes text for an HTML element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(ESCAPABLE, (c) => ESCAPES[c] ?? c);
}

/**
 * Marks a trusted string as HTML. Only for markup written in this code base
 * (never for user input, request data or database values).
 */
export function raw(trusted: string): SafeHtml {
  return new SafeHtml(trusted);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join("");
  return escapeHtml(String(value));
}

/** The tagged template: static parts are kept, interpolations are escaped. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}
