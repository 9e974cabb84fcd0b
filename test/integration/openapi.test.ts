import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiReferenceMarkdown } from "../../src/http/openapi/api-reference.js";
import { isJsonApiRoute } from "../../src/http/openapi/openapi-options.js";
import { API_REFERENCE_FILE, referenceDocument } from "../../src/http/openapi/write-api-reference.js";
import { changesState } from "../../src/http/pipeline/route-needs.js";
import { startHarness, type Harness } from "../helpers/harness.js";

const ROOT = join(import.meta.dirname, "..", "..");
const UPSTREAM = "http://internal-upstream.test:9000";
const SECRET_KEY = randomBytes(32).toString("hex");

interface Operation {
  responses: Record<string, unknown>;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  parameters?: { in: string; name: string }[];
}
type Doc = { openapi: string; info: { title: string; version: string }; servers: { url: string }[]; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { name?: string }>; schemas: Record<string, unknown> } };

/** `/api/account/sessions/:id` as the document writes it: `/api/account/sessions/{id}`. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

describe("OpenAPI 3.1: GET /api/openapi.json describes every JSON API route from its own schemas; GET /api/docs shows it", () => {
  let h: Harness;
  let doc: Doc;
  let text: string;

  beforeAll(async () => {
    h = await startHarness("sqlite", { UPSTREAM_URL: UPSTREAM, SECRET_KEY });
    const res = await h.request({ method: "GET", url: "/api/openapi.json" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    text = res.body;
    doc = res.json();
  });
  afterAll(async () => h?.close());

  it("the document validates against the OpenAPI 3.1 schema", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("info from package.json, servers from PUBLIC_URL, the session cookie and bearer tokens as security schemes, X-CSRF-Token noted, the shared error body", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Gatehouse API", version: pkg.version });
    expect(doc.servers).toEqual([{ url: h.publicUrl }]);
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: "apiKey", in: "cookie", name: "gatehouse_session" });
    expect(doc.components.securitySchemes.apiToken).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.csrfToken).toMatchObject({ type: "apiKey", in: "header", name: "X-CSRF-Token" });
    expect(doc.components.schemas.ErrorBody).toMatchObject({ required: ["error", "code"] });
    expect(doc.paths["/api/auth/login"]?.post?.responses["4XX"]).toMatchObject({ content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } });
  });

  it("every JSON API route of the app is in the document with its method, and nothing else is (no page, forward-auth, proxy or 405 filler)", () => {
    const routes = h.gh.app.routePipeline.filter((e) => isJsonApiRoute(e) && e.method !== "HEAD").map((e) => `${e.method} ${openapiPath(e.url)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.length).toBeGreaterThan(50);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
    expect(documented).toContain("POST /api/auth/login");
    expect(documented.filter((o) => / \/api\/(authz|auth\/oauth|docs)\b/.test(o))).toEqual([]);
  });

  it("every JSON API route declares a 2xx response schema, a body schema when its method takes one, a params schema when its path has parameters", () => {
    const api = new Set(h.gh.app.routePipeline.filter(isJsonApiRoute).map((e) => `${e.method} ${e.url}`));
    const missing: string[] = [];
    for (const route of h.gh.app.routeTable.filter((r) => api.has(`${r.method} ${r.url}`))) {
      const key = `${route.method} ${route.url}`;
      const schema = (route.schema ?? {}) as { response?: Record<string, unknown>; body?: unknown; params?: unknown };
      if (!Object.keys(schema.response ?? {}).some((status) => /^2/.test(status))) missing.push(`${key}: no 2xx response schema`);
      if (changesState(route.method) && schema.body === undefined) missing.push(`${key}: no body schema`);
      if (route.url.includes(":") && schema.params === undefined) missing.push(`${key}: no params schema`);
    }
    expect(missing).toEqual([]);
    // And in the document: every operation has a documented 2xx answer.
    const undocumented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => !Object.keys(op.responses).some((s) => /^2/.test(s)))
        .map(([m]) => `${m} ${path}`),
    );
    expect(undocumented).toEqual([]);
  });

  it("a route that reads its query string declares a querystring schema (each `Querystring` type of the API's route files has its schema)", () => {
    const files = ["auth", "account", "admin"].flatMap((dir) => {
      const base = join(ROOT, "src", "http", "routes", dir);
      return readdirSync(base).filter((f) => f.endsWith(".ts")).map((f) => join(base, f));
    });
    for (const file of [...files, join(ROOT, "src/http/routes/setup-routes.ts"), join(ROOT, "src/http/routes/csp-report-routes.ts"), join(ROOT, "src/http/openapi/openapi-routes.ts")]) {
      const source = readFileSync(file, "utf8");
      const typed = source.match(/Querystring:/g)?.length ?? 0;
      const declared = source.match(/querystring:/g)?.length ?? 0;
      expect({ file, declared: declared >= typed }).toEqual({ file, declared: true });
    }
  });

  it("operations carry their access: public ones need nothing, signed-in ones the session cookie, and the token scope when tokens are admitted", () => {
    expect(doc.paths["/api/auth/login"]?.post?.security).toEqual([]);
    expect(doc.paths["/api/auth/me"]?.get?.security).toEqual([{ sessionCookie: [] }, { apiToken: ["read:account"] }]);
    expect(doc.paths["/api/admin/settings"]?.get?.security).toEqual([{ sessionCookie: [] }]);
    expect(doc.paths["/api/admin/users/{id}"]?.patch?.security).toEqual([{ sessionCookie: [] }, { apiToken: ["admin:write"] }]);
  });

  it("attack: nothing secret leaks into the document — no key, no cookie or token value, no upstream or data directory", async () => {
    const user = await h.account("admin");
    const token = await h.request({ method: "POST", url: "/api/account/tokens", cookie: user.cookie, json: { name: "probe", scopes: ["read:account"] } });
    expect(token.statusCode).toBe(201);
    const again = await h.request({ method: "GET", url: "/api/openapi.json", cookie: user.cookie });
    expect(again.body).toBe(text);
    const cookieValue = user.cookie.split("=")[1] ?? "";
    for (const secret of [SECRET_KEY, cookieValue, (token.json() as { secret: string }).secret, `${tmpdir()}/`, UPSTREAM, "internal-upstream"]) {
      expect(secret.length).toBeGreaterThan(4);
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/gth_[A-Za-z0-9]{8,}/);
    // It describes and grants nothing: an API token reads it like anyone, and it is not cached.
    const byToken = await h.request({ method: "GET", url: "/api/openapi.json", headers: { authorization: `Bearer ${(token.json() as { secret: string }).secret}` } });
    expect(byToken.statusCode).toBe(200);
    expect(byToken.headers["cache-control"]).toBe("no-store");
  });

  it("GET /api/docs lists the operations on a server-rendered page whose CSP allows scripts only by nonce (no 'unsafe-inline')", async () => {
    const res = await h.request({ method: "GET", url: "/api/docs" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(res.headers["content-security-policy"]);
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
    expect(scriptSrc).toMatch(/^'nonce-[A-Za-z0-9+/=]+'$/);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.body).toContain("POST /api/auth/login");
    expect(res.body).toContain("GET /api/admin/users/{id}");
    // Every script element carries this response's nonce and a src: no inline code.
    const nonce = /'nonce-([^']+)'/.exec(scriptSrc)?.[1];
    const scripts = res.body.match(/<script\b[^>]*>/g) ?? [];
    for (const tag of scripts) expect(tag).toMatch(new RegExp(`src="[^"]+" nonce="${nonce?.replace(/[+/=]/g, "\\$&")}"`));
    expect(res.body).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
  });

  it("docs/api-reference.md is the document's Markdown, up to date (run `npm run gen:api-reference`)", async () => {
    const expected = apiReferenceMarkdown(await referenceDocument());
    expect(readFileSync(API_REFERENCE_FILE, "utf8")).toBe(expected);
  });
});
