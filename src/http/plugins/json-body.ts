import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { GatehouseError } from "../../core/errors.js";

/** Deepest JSON nesting accepted (INP-04). */
export const MAX_JSON_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Why a parsed JSON value is refused: nested deeper than {@link MAX_JSON_DEPTH},
 * or carrying a prototype-pollution key anywhere (INP-03). Iterative, so a
 * hostile 5,000-level document cannot exhaust the stack.
 */
export function jsonShapeProblem(value: unknown): "too_deep" | "forbidden_key" | null {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (typeof v !== "object" || v === null) continue;
    if (depth > MAX_JSON_DEPTH) return "too_deep";
    if (Array.isArray(v)) {
      for (const item of v) stack.push({ v: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(v)) {
      if (FORBIDDEN_KEYS.has(key)) return "forbidden_key";
      stack.push({ v: (v as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
  return null;
}

/**
 * JSON is the only body type: every default parser (including `text/plain`,
 * the CSRF-safelisted type) is removed, so any other type gets 415 (CSRF-04).
 */
export const jsonBodyPlugin = fp(
  async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
      const text = body as string;
      if (text.trim() === "") return done(null, undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return done(new GatehouseError("invalid_json"), undefined);
      }
      if (jsonShapeProblem(parsed) !== null) return done(new GatehouseError("invalid_request"), undefined);
      done(null, parsed);
    });
  },
  { name: "json-body" },
);
