import { readFileSync } from "node:fs";
import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import type { FastifySchema, RouteOptions } from "fastify";
import { API_TOKEN_PREFIX } from "../../core/tokens/api-token.js";
import type { Config } from "../../config/config.js";
import type { PipelineEntry } from "../pipeline/use-pipeline.js";
import { changesState } from "../pipeline/route-needs.js";
import { sessionCookieName } from "../plugins/session-cookie.js";
import type { TokenRule } from "../types.js";

/** The `$id` of the shared `{error, code, fields?}` body (docs/api.md, "Conventions"), a component of the document. */
export const ERROR_BODY_ID = "ErrorBody";

/** The error body every API route answers with on 4xx/5xx: registered once with `app.addSchema`. */
export const errorBodySchema = {
  $id: ERROR_BODY_ID,
  type: "object",
  additionalProperties: false,
  required: ["error", "code"],
  properties: {
    error: { type: "string", description: "A message for people." },
    code: { type: "string", description: "The machine code (docs/api.md, \"Error codes\")." },
    fields: { type: "array", items: { type: "string" }, description: "400 invalid_request: the names of the offending fields, never their values." },
  },
} as const;

/** The groups of the document, in order: the first path segment after `/api/`. */
export const API_TAGS = [
  { name: "auth", description: "Sign-in, registration, second factors, re-authentication, the mail flows." },
  { name: "account", description: "The signed-in user's sessions, password, second factors, tokens and linked identities." },
  { name: "admin", description: "Users, sessions, invitations, audit log, bans, settings, backup (role admin or higher)." },
  { name: "setup", description: "Creating the first superadmin from the one-time link." },
  { name: "system", description: "CSP reports and this API description." },
] as const;

/**
 * The package's version, read once when the options are built: from the
 * package.json beside `src/` or `dist/`. A copy of the build without it (a
 * trimmed image, the benchmarks' build) still starts; its document says `0.0.0`.
 */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** True for a route of the JSON API: the `api` context's routes under `/api/` (not the pages, forward-auth, proxy or 405 fillers). */
export function isJsonApiRoute(entry: Pick<PipelineEntry, "url" | "needs">): boolean {
  return entry.needs.context === "api" && entry.url.startsWith("/api/");
}

function tagOf(url: string): string {
  const segment = url.split("/")[2] ?? "";
  return API_TAGS.some((t) => t.name === segment) ? segment : "system";
}

function scopeOf(rule: TokenRule | undefined): string | null {
  if (rule === undefined || rule === false) return null;
  return typeof rule === "object" ? rule.scope : rule;
}

/** Who may call an operation, in the document: `security` (none for public routes) and a sentence for people. */
function accessOf(route: RouteOptions): { security: Record<string, string[]>[]; description: string; extensions: Record<string, unknown> } {
  const access = route.config?.access ?? "public";
  const rule = route.config?.token;
  const scope = scopeOf(rule);
  const unsafe = changesState(route.method);
  if (access === "public") {
    return { security: [], description: "Access: public.", extensions: { "x-gatehouse-access": "public" } };
  }
  const security: Record<string, string[]>[] = [{ sessionCookie: [] }];
  if (scope !== null) security.push({ apiToken: [scope] });
  const who = access === "user" ? "any signed-in user" : `role ${access}${access === "superadmin" ? "" : " or higher"}`;
  const tokens = scope === null ? "API tokens are refused (403)." : `API tokens with the \`${scope}\` scope${typeof rule === "object" ? ` (not with the fields ${rule.refuseFields.map((f) => `\`${f}\``).join(", ")})` : ""}.`;
  const csrf = unsafe ? " A cookie-authenticated call passes the cross-site rule (same-origin `Sec-Fetch-Site`/`Origin`/`Referer`, or `X-CSRF-Token`)." : "";
  return {
    security,
    description: `Access: ${who}. ${tokens}${csrf}`,
    extensions: { "x-gatehouse-access": access, ...(scope !== null ? { "x-gatehouse-token-scope": scope } : {}) },
  };
}

/** What a 2xx answer is called in the document when its schema gives no description. */
const STATUS_TEXT: Record<string, string> = { "200": "OK.", "201": "Created.", "202": "Accepted: the work happens after the answer.", "204": "No content." };

/** The route's response schemas with a description each (copies: the runtime schemas stay untouched). */
function describedResponses(response: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(response ?? {})) {
    const described = typeof schema === "object" && schema !== null && "description" in schema;
    out[status] = described ? schema : { ...(schema as object), "x-response-description": STATUS_TEXT[status] ?? "Success." };
  }
  return out;
}

const errorResponse = { description: "The error body (docs/api.md, \"Error codes\").", $ref: `${ERROR_BODY_ID}#` };

/**
 * The options of `@fastify/swagger` (dynamic mode, OpenAPI 3.1): the
 * document is built from the routes' own schemas on first request. Only
 * the JSON API is described ({@link isJsonApiRoute}, decided from the
 * request pipeline's record of contexts): every other route is hidden.
 * `basePath` is the library plugin's prefix ("" for the server).
 * Each operation gets its tag, its access (security requirements and a
 * sentence) and the shared error body for 4XX/5XX, added to the document
 * only — the routes' runtime schemas are never changed.
 */
export function openapiOptions(config: Config, pipeline: readonly PipelineEntry[], basePath = ""): FastifyDynamicSwaggerOptions {
  const cookie = sessionCookieName(config);
  let apiRoutes: Set<string> | null = null;
  // Under the library plugin's prefix (src/library/fastify) every path starts with it.
  const unprefixed = (url: string): string => (url.startsWith(basePath) ? url.slice(basePath.length) : url);
  const described = (method: string, url: string): boolean => {
    apiRoutes ??= new Set(pipeline.filter((e) => isJsonApiRoute({ needs: e.needs, url: unprefixed(e.url) })).map((e) => `${e.method} ${e.url}`));
    return apiRoutes.has(`${method} ${url}`);
  };
  return {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Gatehouse API",
        version: packageVersion(),
        description:
          "The JSON API of this Gatehouse. docs/api.md is the contract in words (status codes, error codes, the cross-site rule); this document is generated from the routes' own request and response schemas.",
      },
      servers: [{ url: config.publicUrl }],
      tags: API_TAGS.map((t) => ({ ...t })),
      components: {
        securitySchemes: {
          sessionCookie: {
            type: "apiKey",
            in: "cookie",
            name: cookie,
            description: `The browser session (\`${cookie}\`; \`__Host-gatehouse_session\` when PUBLIC_URL is https), set by the sign-in routes. State-changing calls with it must pass the cross-site rule: a same-origin \`Sec-Fetch-Site\`, \`Origin\` or \`Referer\`, or without those \`X-Requested-With: XMLHttpRequest\` or a valid \`X-CSRF-Token\` header.`,
          },
          apiToken: {
            type: "http",
            scheme: "bearer",
            bearerFormat: `${API_TOKEN_PREFIX}…`,
            description: "A personal API token (`Authorization: Bearer gth_…`), made under /api/account/tokens. The requirement's list names the scope the operation needs. Tokens skip the cross-site rule.",
          },
          csrfToken: {
            type: "apiKey",
            in: "header",
            name: "X-CSRF-Token",
            description: "The page CSRF token: needed by a cookie-authenticated state-changing call only when the request carries none of Sec-Fetch-Site, Origin, Referer or X-Requested-With.",
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
    transform: ({ schema, url: given, route }) => {
      // A prefixed route declared as "/" (DELETE /api/account) is routed without the slash (ignoreTrailingSlash).
      const url = given.length > 1 ? given.replace(/\/$/, "") : given;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      if (!methods.some((m) => described(m, url))) return { schema: { ...schema, hide: true }, url };
      const { security, description, extensions } = accessOf(route);
      const own = schema as (FastifySchema & { description?: string; response?: Record<string, unknown> }) | undefined;
      return {
        url,
        schema: {
          ...own,
          tags: [tagOf(unprefixed(url))],
          description: own?.description ? `${own.description}\n\n${description}` : description,
          security,
          ...extensions,
          response: { ...describedResponses(own?.response), "4xx": errorResponse, "5xx": errorResponse },
        },
      };
    },
  };
}
