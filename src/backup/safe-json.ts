/** Keys refused anywhere in imported JSON: they could pollute prototypes downstream. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** Thrown by {@link parseSafeJson}; carries no part of the input. */
export class UnsafeJsonError extends Error {
  constructor(readonly reason: "syntax" | "forbidden_key") {
    super(reason === "syntax" ? "invalid JSON" : "forbidden key in JSON");
    this.name = "UnsafeJsonError";
  }
}

/**
 * Parses JSON (only JSON: no eval, no YAML, no `v8.deserialize`, BKP-04) and
 * refuses any object key `__proto__`, `constructor` or `prototype` at any
 * depth, including escaped spellings such as `"\u005f_proto__"`.
 */
export function parseSafeJson(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, function reviver(this: unknown, key: string, value: unknown) {
      if (FORBIDDEN_KEYS.has(key) && !Array.isArray(this)) throw new UnsafeJsonError("forbidden_key");
      return value;
    });
  } catch (err) {
    if (err instanceof UnsafeJsonError) throw err;
    throw new UnsafeJsonError("syntax");
  }
  return parsed;
}
