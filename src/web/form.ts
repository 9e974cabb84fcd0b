import { GatehouseError } from "../core/errors.js";

/** Most fields one form body may carry (INP-04 spirit: bounded work per request). */
export const MAX_FORM_FIELDS = 64;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A parsed form: each name maps to its values in order (checkbox groups repeat a name). */
export type FormBody = Readonly<Record<string, readonly string[]>>;

/**
 * Parses an `application/x-www-form-urlencoded` body into a prototype-less
 * record. Refuses (400 `invalid_request`) more than {@link MAX_FORM_FIELDS}
 * fields or a prototype-pollution key. The byte limit is Fastify's body limit.
 */
export function parseForm(body: string): FormBody {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  if (body === "") return out;
  let count = 0;
  for (const [name, value] of new URLSearchParams(body)) {
    if (++count > MAX_FORM_FIELDS || FORBIDDEN_KEYS.has(name)) throw new GatehouseError("invalid_request");
    (out[name] ??= []).push(value);
  }
  return out;
}

/** The single value of a form field ("" when absent); a repeated field is refused. */
export function formValue(form: FormBody | undefined, name: string, maxLength = 1024): string {
  const values = form?.[name];
  if (values === undefined || values.length === 0) return "";
  if (values.length > 1) throw new GatehouseError("invalid_request", { fields: [name] });
  const value = values[0] ?? "";
  if (value.length > maxLength) throw new GatehouseError("invalid_request", { fields: [name] });
  return value;
}

/** Every value of a repeated field (a checkbox group). */
export function formValues(form: FormBody | undefined, name: string): readonly string[] {
  return form?.[name] ?? [];
}

/** True when a checkbox was ticked. */
export function formChecked(form: FormBody | undefined, name: string): boolean {
  return (form?.[name]?.length ?? 0) > 0;
}
