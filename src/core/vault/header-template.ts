import { SECRET_NAME } from "./vault-names.js";

/** One piece of an injected header's value: literal text, an operator secret or the signed-in user's own key. */
export type TemplatePart = { text: string } | { secret: string } | { userSecret: string };

/** A parsed `inject_headers` value, such as `Bearer ${secret:openai}`. */
export interface HeaderTemplate {
  readonly parts: readonly TemplatePart[];
}

const PLACEHOLDER = /\$\{([a-z_]+):([^}]*)\}/g;
const LITERAL = /^[\x20-\x7e]*$/;

/**
 * Parses a header value template: literal text (visible ASCII and spaces)
 * around `${secret:<name>}` and `${user_secret:<name>}` placeholders.
 * Returns the template, or why it is not one (never echoing the text).
 */
export function parseHeaderTemplate(source: string): HeaderTemplate | string {
  if (source.length === 0 || source.length > 1024) return "must be 1 to 1024 characters";
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const kind = m[1]!;
    const name = m[2]!;
    if (m.index > last) parts.push({ text: source.slice(last, m.index) });
    if (!SECRET_NAME.test(name)) return "names a secret that is not a valid name (lower-case letters, digits, _ and -)";
    if (kind === "secret") parts.push({ secret: name });
    else if (kind === "user_secret") parts.push({ userSecret: name });
    else return "has a placeholder other than ${secret:<name>} or ${user_secret:<name>}";
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push({ text: source.slice(last) });
  for (const p of parts) {
    if ("text" in p && (p.text.includes("${") || !LITERAL.test(p.text))) return "has an unclosed placeholder or a character that is not visible ASCII";
  }
  if (!parts.some((p) => !("text" in p))) return "names no secret (use ${secret:<name>} or ${user_secret:<name>})";
  return { parts };
}

/** The user-key names a template refers to. */
export function userSecretNames(template: HeaderTemplate): string[] {
  return template.parts.flatMap((p) => ("userSecret" in p ? [p.userSecret] : []));
}

/**
 * Renders a template with `lookup`, which gives a secret's value or null.
 * Null when any placeholder has no value: the header is then not sent at
 * all, never with a placeholder's literal text or half a value.
 */
export async function renderHeaderTemplate(
  template: HeaderTemplate,
  lookup: (part: { secret: string } | { userSecret: string }) => Promise<string | null>,
): Promise<string | null> {
  let out = "";
  for (const part of template.parts) {
    if ("text" in part) {
      out += part.text;
      continue;
    }
    const value = await lookup(part);
    if (value === null) return null;
    out += value;
  }
  return out;
}
