import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import type { PasswordHasher } from "../../src/core/passwords/password-hasher.js";
import { CONTEXTS, type RouteNeeds } from "../../src/http/pipeline/route-needs.js";
import type { PipelineEntry } from "../../src/http/pipeline/use-pipeline.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";

/**
 * "Declare, don't exempt": every route states what it needs (its config) and
 * its context gives the rest; this suite checks that the hooks Fastify
 * actually runs for each route are exactly the ones those needs call for,
 * read from Fastify's own route table (`printRoutes({ includeHooks: true })`),
 * so a global hook, a forgotten step or a step a route does not need fails
 * here. The reviewed lists below pin the attacker-facing declarations.
 */

/** The steps a route's needs call for, in order (the pipeline table of docs/architecture.md, written out). */
function expectedOnRequest(n: RouteNeeds): string[] {
  const headers = { api: ["setApiHeaders"], page: ["setPageHeaders"], proxied: ["setProxiedHeaders"], own: [] }[n.headers];
  return [
    "stampRequestId",
    "checkBan",
    ...headers,
    ...(n.queryKeys ? ["refuseQueryKeys"] : []),
    ...(n.csrf ? ["checkCrossSite"] : []),
    ...(n.session !== "none" ? ["resolveSession"] : []),
    ...(n.limit !== null ? ["countRouteLimit"] : []),
    ...(n.access !== "public" ? ["refuseAccess"] : []),
    ...(n.hashing ? ["shedWhenSaturated"] : []),
  ];
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function expectedPreValidation(e: PipelineEntry): string[] {
  return [...(e.needs.context === "pages" && UNSAFE.has(e.method) ? ["checkFormToken"] : []), ...(typeof e.needs.token === "object" ? ["refuseTokenFields"] : [])];
}

/**
 * `METHOD url` → hook phase → the names of the functions Fastify runs, from
 * its printed route tree: a node's path is its parent's (the node printed
 * four columns to the left) plus its own segment.
 */
function actualHooks(printed: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  const pathAt = new Map<number, string>();
  let phases: Map<string, string[]> | null = null;
  for (const line of printed.split("\n")) {
    const hook = /• \((\w+)\) (\[.*\])$/.exec(line);
    if (hook) {
      phases?.set(hook[1] ?? "", (JSON.parse(hook[2] ?? "[]") as string[]).map((n) => n.replace(/\(\)$/, "")));
      continue;
    }
    const node = /^([│├└─\s]*)(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!node) continue;
    const column = [...(node[1] ?? "")].length;
    const path = (pathAt.get(column - 4) ?? "") + (node[2] ?? "");
    pathAt.set(column, path);
    for (const deeper of [...pathAt.keys()].filter((c) => c > column)) pathAt.delete(deeper);
    phases = new Map();
    for (const method of (node[3] ?? "").split(", ")) out.set(`${method} ${path}`, phases);
  }
  return out;
}

/** State-changing routes that take no cross-site check, and why (reviewed). */
const CROSS_SITE_EXEMPT: Record<string, string> = {
  "POST /api/csp-report": "browsers post violation reports from any page; the route changes nothing and reads no credential",
};

/** Routes whose every request carries a password that is checked or hashed: they shed load first (AUTH-12). Reviewed. */
const HASHING_ROUTES = [
  "POST /api/auth/register",
  "POST /api/auth/login",
  "POST /api/auth/reauth",
  "POST /api/auth/reset-password",
  "POST /api/account/password",
  "DELETE /api/account",
  "POST /api/setup",
  "POST /login",
  "POST /register",
  "POST /invite",
  "POST /setup",
  "POST /reset-password",
  "POST /account/password",
  "POST /account/delete",
].sort();

/** Routes that resolve no session: they never look at who calls (reviewed). */
// /metrics (METRICS=on) checks its own bearer token (METRICS_TOKEN), never a session or an API token.
const SESSIONLESS = ["GET /healthz", "GET /readyz", "HEAD /healthz", "HEAD /readyz", "GET /metrics", "HEAD /metrics", "POST /api/csp-report", "GET /api/openapi.json", "HEAD /api/openapi.json", "GET /assets/:name", "HEAD /assets/:name", "GET /.well-known/jwks.json", "HEAD /.well-known/jwks.json"].sort();

describe.each(backendNames())("the request pipeline: declared needs against the hooks that run (%s)", (backend) => {
  let h: Harness;
  let hooks: Map<string, Map<string, string[]>>;
  beforeAll(async () => {
    // METRICS=on, so /metrics is among the routes checked (off, it does not exist).
    h = await startHarness(backend, { METRICS: "on", METRICS_TOKEN: "policy-metrics-token-0123456789" });
    hooks = actualHooks(h.gh.app.printRoutes({ includeHooks: true, commonPrefix: false }));
  });
  afterAll(async () => h?.close());

  it("every route lives in one of the four contexts, with its needs resolved", () => {
    const inPipeline = new Set(h.gh.app.routePipeline.map((e) => `${e.method} ${e.url}`));
    const declared = h.gh.app.routeTable.map((r) => `${r.method} ${r.url}`);
    expect(declared.filter((r) => !inPipeline.has(r))).toEqual([]);
    expect(new Set(h.gh.app.routePipeline.map((e) => e.needs.context))).toEqual(new Set(["api", "pages", "authz", "proxy"]));
  });

  it("each route's onRequest hooks are exactly the steps its needs call for, in order (no global hook, no skipped step)", () => {
    const mismatches: string[] = [];
    for (const entry of h.gh.app.routePipeline) {
      const key = `${entry.method} ${entry.url}`;
      const actual = hooks.get(key)?.get("onRequest") ?? [];
      const expected = expectedOnRequest(entry.needs);
      if (actual.join(",") !== expected.join(",")) mismatches.push(`${key}: runs [${actual.join(", ")}], needs [${expected.join(", ")}]`);
    }
    expect(mismatches).toEqual([]);
    expect(h.gh.app.routePipeline.length).toBeGreaterThan(100);
  });

  it("each route's preValidation hooks are the form-token check (page forms) and the token-field check (declared), nothing else", () => {
    const mismatches: string[] = [];
    for (const entry of h.gh.app.routePipeline) {
      const key = `${entry.method} ${entry.url}`;
      const actual = hooks.get(key)?.get("preValidation") ?? [];
      const expected = expectedPreValidation(entry);
      if (actual.join(",") !== expected.join(",")) mismatches.push(`${key}: runs [${actual.join(", ")}], needs [${expected.join(", ")}]`);
    }
    expect(mismatches).toEqual([]);
  });

  it("forward-auth runs only what it uses: the request id, the ban check and the session (no headers, no CSRF, no limit)", () => {
    expect(hooks.get("GET /api/authz/forward-auth")?.get("onRequest")).toEqual(["stampRequestId", "checkBan", "resolveSession"]);
    expect(hooks.get("GET /api/authz/auth-request")?.get("onRequest")).toEqual(["stampRequestId", "checkBan", "resolveSession"]);
  });

  it("attack: cross-site form or fetch to a state-changing route — every one is checked but the reviewed exemptions", () => {
    const unchecked = h.gh.app.routePipeline
      .filter((e) => UNSAFE.has(e.method) && !e.needs.csrf && e.needs.context !== "proxy")
      .map((e) => `${e.method} ${e.url}`)
      .sort();
    expect(unchecked).toEqual(Object.keys(CROSS_SITE_EXEMPT).sort());
  });

  it("attack: a flood of password guesses saturating hashing — every route that always hashes declares it", () => {
    const declared = h.gh.app.routePipeline.filter((e) => e.needs.hashing).map((e) => `${e.method} ${e.url}`);
    expect([...new Set(declared)].sort()).toEqual(HASHING_ROUTES);
  });

  it("only the reviewed routes skip the session lookup; every signed-in route resolves and checks it", () => {
    const sessionless = h.gh.app.routePipeline.filter((e) => e.needs.session === "none").map((e) => `${e.method} ${e.url}`);
    expect(sessionless.sort()).toEqual(SESSIONLESS);
    for (const e of h.gh.app.routePipeline.filter((x) => x.needs.access !== "public")) expect(e.needs.session).toBe("required");
  });

  it("docs/architecture.md's pipeline table gives each context's defaults as the code does", () => {
    const doc = readFileSync(new URL("../../docs/architecture.md", import.meta.url), "utf8");
    for (const context of Object.values(CONTEXTS)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${context.name}\` |`));
      expect(row, `a row for ${context.name}`).toBeDefined();
      const cells = (row ?? "").split("|").map((c) => c.trim());
      // | context | routes | headers | query keys | cross-site check | session (public routes) | limit | errors |
      expect(cells[3]).toBe(`\`${context.headers}\``);
      expect(cells[4]).toBe(context.queryKeys ? "yes" : "no");
      expect(cells[5]).toBe(context.csrf ? "yes" : "no");
      expect(cells[6]).toBe(`\`${context.session}\``);
      expect(cells[7]).toBe(context.limit === null ? "none" : `\`${context.limit}\``);
      expect(cells[8]).toBe(`\`${context.errors}\``);
    }
  });
});

/** A real hasher whose password checks can be held, so a test can fill every hashing slot. */
function holdableHasher(inner: PasswordHasher): PasswordHasher & { hold(): Promise<void>; release(): void } {
  let gate: Promise<void> | null = null;
  let open = () => {};
  let entered = () => {};
  let enteredP: Promise<void> = Promise.resolve();
  const wait = async () => {
    if (gate === null) return;
    entered();
    await gate;
  };
  return {
    async hash(password) {
      await wait();
      return inner.hash(password);
    },
    async verify(phc, password) {
      await wait();
      return inner.verify(phc, password);
    },
    needsRehash: (phc) => inner.needsRehash(phc),
    async verifyDummy(password) {
      await wait();
      return inner.verifyDummy(password);
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
      enteredP = new Promise((resolve) => (entered = resolve));
      return enteredP;
    },
    release() {
      gate = null;
      open();
    },
  };
}

describe("AUTH-12 through the pipeline: with every hashing slot busy, each hashing route sheds before reading its body", () => {
  let h: Harness;
  const argon2 = createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const hasher = holdableHasher(argon2);
  let cookie = "";
  let held: Promise<unknown> = Promise.resolve();
  beforeAll(async () => {
    h = await startHarness("sqlite", { HASH_CONCURRENCY: "1", HASH_QUEUE: "0" }, undefined, { hasher });
    cookie = (await h.account("user")).cookie;
    const entered = hasher.hold();
    held = h.request({ method: "POST", url: "/api/auth/login", json: { username: "nobody-here", password: "x".repeat(20) } });
    await entered;
  });
  afterAll(async () => {
    hasher.release();
    await held;
    await h?.close();
    await argon2.close();
  });

  it("attack: password flood — every declared hashing route answers 503 overloaded with Connection: close, even to an empty body", async () => {
    const answers: string[] = [];
    for (const route of HASHING_ROUTES) {
      const [method, url] = route.split(" ") as [string, string];
      const isPage = !url.startsWith("/api/");
      const res = await h.request({
        method: method as "POST",
        url,
        cookie,
        ...(isPage ? { payload: "", headers: { "content-type": "application/x-www-form-urlencoded" } } : { json: {} }),
      });
      answers.push(`${route} ${res.statusCode} ${res.headers.connection === "close" ? "close" : "keep"}`);
    }
    expect(answers).toEqual(HASHING_ROUTES.map((r) => `${r} 503 close`));
  });

  it("a signed-in read and the health probe keep working meanwhile", async () => {
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
