import { apiOperations, fieldsOf, type ApiOperation, type JsonSchema } from "./api-operations.js";

/** Escapes a table cell: pipes and line breaks would end it. */
const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

function fieldRows(fields: { name: string; type: string; required: boolean }[]): string[] {
  return ["| Field | Type | Required |", "|---|---|---|", ...fields.map((f) => `| \`${f.name}\` | \`${cell(f.type)}\` | ${f.required ? "yes" : "no"} |`)];
}

/** The top-level field names of a response body; for alternatives (`oneOf`), each set, separated by "or". */
function bodyFields(schema: JsonSchema | null): string {
  const names = (s: unknown) => fieldsOf(s as JsonSchema).map((f) => `\`${f.name}\``).join(", ");
  if (schema !== null && Array.isArray(schema.oneOf)) return schema.oneOf.map(names).join(" or ");
  return schema === null ? "" : names(schema);
}

function operationSection(op: ApiOperation): string[] {
  const lines = [`### \`${op.method} ${op.path}\``, ""];
  if (op.summary) lines.push(op.summary, "");
  lines.push(op.description, "");
  if (op.parameters.length > 0) {
    lines.push("| Parameter | In | Type | Required |", "|---|---|---|---|");
    for (const p of op.parameters) lines.push(`| \`${p.name}\` | ${p.in} | \`${cell(p.type)}\` | ${p.required ? "yes" : "no"} |`);
    lines.push("");
  }
  if (op.requestBody !== null) {
    lines.push(`Request body (${op.requestBody.mediaTypes.map((m) => `\`${m}\``).join(", ")}):`, "");
    const fields = fieldsOf(op.requestBody.schema);
    if (fields.length > 0) lines.push(...fieldRows(fields), "");
    else if (op.requestBody.schema?.maxProperties === 0) lines.push("No fields: an empty object, or no body.", "");
    else if (typeof op.requestBody.schema?.description === "string") lines.push(op.requestBody.schema.description, "");
  }
  lines.push("| Response | Description | Body fields |", "|---|---|---|");
  for (const r of op.responses) {
    const fields = bodyFields(r.schema);
    lines.push(`| ${r.status} | ${cell(r.description)} | ${fields || (r.schema === null ? "—" : `\`${cell(JSON.stringify(r.schema).length > 60 ? "object" : JSON.stringify(r.schema))}\``)} |`);
  }
  lines.push("");
  return lines;
}

/**
 * docs/api-reference.md from the OpenAPI document: one section per tag, one
 * per operation (access, parameters, body fields, responses). Written by
 * `npm run gen:api-reference`; a test fails when the file is out of date.
 */
export function apiReferenceMarkdown(doc: { info: { title: string; version: string }; tags?: { name: string; description?: string }[] }): string {
  const operations = apiOperations(doc);
  const lines = [
    "# API reference",
    "",
    "<!-- Generated from the OpenAPI document (GET /api/openapi.json) by `npm run gen:api-reference`: do not edit by hand. -->",
    "",
    `${doc.info.title} ${doc.info.version}, generated from the routes' own schemas. [api.md](api.md) is the contract in words: the conventions, who may call what, the cross-site rule and the error codes. A running Gatehouse serves the same document at \`GET /api/openapi.json\` and this reference as a page at \`GET /api/docs\`.`,
    "",
    "Every operation may also answer `4XX` and `5XX` with the error body `{\"error\", \"code\"}` (plus `\"fields\"` for 400 `invalid_request`).",
    "",
  ];
  for (const tag of doc.tags ?? []) {
    const ops = operations.filter((op) => op.tag === tag.name);
    if (ops.length === 0) continue;
    lines.push(`## ${tag.name}`, "");
    if (tag.description) lines.push(tag.description, "");
    for (const op of ops) lines.push(...operationSection({ ...op, responses: op.responses.filter((r) => !/^[45]XX$/.test(r.status)) }));
  }
  return `${lines.join("\n").trimEnd()}\n`;
}
