/**
 * The operations of an OpenAPI document as plain rows, in document order:
 * what the docs page (GET /api/docs) and the Markdown reference
 * (docs/api-reference.md) show. Only the shapes Gatehouse's document uses
 * are read; `$ref`s to components are left as their names.
 */

/** A JSON Schema as found in the document (loosely typed: it is only displayed). */
export type JsonSchema = Record<string, unknown>;

/** One parameter (path or query). */
export interface ApiParameter {
  in: string;
  name: string;
  required: boolean;
  /** A short type text: `string`, `string (uuid pattern)`, `"true" | "false"`. */
  type: string;
}

/** One response of an operation. */
export interface ApiResponse {
  status: string;
  description: string;
  /** The JSON schema of the body (the first media type), or null for none (204). */
  schema: JsonSchema | null;
  mediaTypes: string[];
}

/** One operation. */
export interface ApiOperation {
  method: string;
  path: string;
  tag: string;
  summary: string;
  description: string;
  /** `public`, `user`, `admin` or `superadmin` (the `x-gatehouse-access` extension). */
  access: string;
  /** The API-token scope that may call it, or null when tokens are refused. */
  tokenScope: string | null;
  parameters: ApiParameter[];
  requestBody: { mediaTypes: string[]; schema: JsonSchema | null } | null;
  responses: ApiResponse[];
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A one-line type of a schema: its `type` (or types), its enum values, or a `$ref`'s component name. */
export function typeText(schema: unknown): string {
  if (!isRecord(schema)) return "any";
  if (typeof schema.$ref === "string") return schema.$ref.split("/").pop() ?? schema.$ref;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (Array.isArray(schema.oneOf)) return schema.oneOf.map(typeText).join(" or ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : typeof schema.type === "string" ? schema.type : "any";
  if (type === "array") return `${typeText(schema.items)}[]`;
  return type;
}

function firstContent(content: unknown): { mediaTypes: string[]; schema: JsonSchema | null } {
  if (!isRecord(content)) return { mediaTypes: [], schema: null };
  const mediaTypes = Object.keys(content);
  const first = mediaTypes[0] === undefined ? undefined : content[mediaTypes[0]];
  return { mediaTypes, schema: isRecord(first) && isRecord(first.schema) ? first.schema : null };
}

/** The operations of `doc`, path by path in document order, methods in the usual order. */
export function apiOperations(doc: unknown): ApiOperation[] {
  const paths = isRecord(doc) && isRecord(doc.paths) ? doc.paths : {};
  const out: ApiOperation[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isRecord(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isRecord(op)) continue;
      const parameters = (Array.isArray(op.parameters) ? op.parameters : []).filter(isRecord).map((p) => ({
        in: String(p.in),
        name: String(p.name),
        required: p.required === true,
        type: typeText(p.schema),
      }));
      const body = isRecord(op.requestBody) ? firstContent(op.requestBody.content) : null;
      const responses = Object.entries(isRecord(op.responses) ? op.responses : {})
        .filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]))
        .map(([status, r]) => ({ status, description: typeof r.description === "string" ? r.description : "", ...firstContent(r.content) }));
      out.push({
        method: method.toUpperCase(),
        path,
        tag: Array.isArray(op.tags) && typeof op.tags[0] === "string" ? op.tags[0] : "",
        summary: typeof op.summary === "string" ? op.summary : "",
        description: typeof op.description === "string" ? op.description : "",
        access: typeof op["x-gatehouse-access"] === "string" ? op["x-gatehouse-access"] : "public",
        tokenScope: typeof op["x-gatehouse-token-scope"] === "string" ? op["x-gatehouse-token-scope"] : null,
        parameters,
        requestBody: body,
        responses,
      });
    }
  }
  return out;
}

/** The top-level fields of an object schema: name, type text, whether required. Empty for anything else. */
export function fieldsOf(schema: JsonSchema | null): { name: string; type: string; required: boolean }[] {
  if (schema === null || !isRecord(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).map(([name, s]) => ({ name, type: typeText(s), required: required.has(name) }));
}
