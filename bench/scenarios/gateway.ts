import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureLoad, type BenchContext } from "../lib/load.js";
import { startServer, withServer, type Running } from "../lib/servers.js";
import type { Row } from "../lib/report.js";
import { UNLIMITED_API, type Scenario } from "./scenario.js";

const APP_HOST = "app.bench.test";

/** An access-rules file: signed-in users may reach the bench app; everything else is denied. */
export function rulesFile(upstream?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-rules-"));
  const file = join(dir, "gatehouse.yml");
  const lines = [
    "access_control:",
    "  default_policy: deny",
    "  rules:",
    `    - domain: ["${APP_HOST}", "127.0.0.1"]`,
    "      policy: one_factor",
  ];
  if (upstream) lines.push("upstreams:", `  - domain: ${APP_HOST}`, `    url: ${upstream}`);
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

/** Fails with a clear message when a feature's endpoint is not in this tree. */
async function requireFeature(s: Running, path: string, feature: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(s.url(path), { headers, redirect: "manual" });
  const body = await res.text();
  if (res.status === 404 && body.includes("not_found")) {
    throw new Error(`${feature} is not in this tree: GET ${path} answered 404 not_found`);
  }
}

/** The original request of the forward-auth loads, as Traefik sends it. */
export const forwardHeaders = {
  "x-forwarded-method": "GET",
  "x-forwarded-proto": "https",
  "x-forwarded-host": APP_HOST,
  "x-forwarded-uri": "/dashboard?tab=1",
  accept: "application/json",
};

/** GET /api/authz/forward-auth: allow (valid cookie, a matching rule) and deny (no cookie), vs bare Fastify. */
export const forwardAuth: Scenario = {
  id: "forward-auth",
  needs: ["bare"],
  targets: [{ label: "forward-auth allow vs bare Fastify", row: "fwd-allow", of: "bare", metric: "rps", op: ">=", value: 0.7 }],
  run: (ctx) =>
    withServer("gatehouse", { ...UNLIMITED_API, TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_CONFIG: rulesFile() }, async (s) => {
      await requireFeature(s, "/api/authz/forward-auth", "forward-auth (GET /api/authz/forward-auth)", forwardHeaders);
      const url = s.url("/api/authz/forward-auth");
      const allow = await measureLoad({ pid: s.child.pid!, url, headers: forwardHeaders, cookies: [s.ready.cookie!], expect: 200 }, ctx, "forward-auth allow", false, ctx.pairBare);
      const allowRss = s.rssMb();
      const deny = await measureLoad({ pid: s.child.pid!, url, headers: forwardHeaders, expect: 401 }, ctx, "forward-auth deny", false, ctx.pairBare);
      return [
        { id: "fwd-allow", title: "forward-auth allow (valid cookie, rule matches) → 200", ...allow, rssMb: allowRss, baseline: "bare" },
        { id: "fwd-deny", title: "forward-auth deny (no cookie, API client) → 401", ...deny, rssMb: s.rssMb(), baseline: "bare" },
      ] satisfies Row[];
    }),
};

async function proxyRows(ctx: BenchContext, upstream: Running): Promise<Row[]> {
  const upstreamUrl = `http://127.0.0.1:${upstream.ready.port}`;
  const path = "/app/page?x=1";
  const direct = await measureLoad({ pid: upstream.child.pid!, url: upstream.url(path), expect: 200 }, ctx, "upstream direct");
  const rows: Row[] = [{ id: "upstream", title: "upstream app reached directly (node:http)", ...direct, rssMb: upstream.rssMb() }];
  const bareProxy = await withServer("bare-proxy", { UPSTREAM_URL: upstreamUrl }, async (s) => ({
    ...(await measureLoad({ pid: s.child.pid!, url: s.url(path), expect: 200 }, ctx, "bare @fastify/http-proxy")),
    rssMb: s.rssMb(),
  }));
  rows.push({ id: "bare-proxy", title: "bare @fastify/http-proxy, no auth", ...bareProxy, baseline: "upstream" });
  try {
    const gh = await withServer("gatehouse", { ...UNLIMITED_API, BENCH_PUBLIC_URL: "http://localhost", UPSTREAM_URL: upstreamUrl, GATEHOUSE_CONFIG: rulesFile(upstreamUrl) }, async (s) => {
    const probe = await fetch(s.url(path), { headers: { cookie: s.ready.cookie! }, redirect: "manual" });
    const text = await probe.text();
    if (!text.includes("from upstream")) {
      throw new Error(`reverse proxy (UPSTREAM_URL) is not in this tree or did not forward: GET ${path} answered ${probe.status} ${text.slice(0, 120)}`);
    }
    return { ...(await measureLoad({ pid: s.child.pid!, url: s.url(path), cookies: [s.ready.cookie!], expect: 200 }, ctx, "Gatehouse proxy")), rssMb: s.rssMb() };
  });
    rows.push({ id: "gh-proxy", title: "Gatehouse reverse proxy, signed-in GET", ...gh, baseline: "bare-proxy" });
  } catch (err) {
    rows.push({ id: "gh-proxy", title: "Gatehouse reverse proxy, signed-in GET", rps: null, p50: null, p99: null, rssMb: null, error: (err as Error).message });
  }
  return rows;
}

/** Reverse proxy: through Gatehouse vs the upstream directly vs a bare @fastify/http-proxy. */
export const reverseProxy: Scenario = {
  id: "proxy",
  targets: [{ label: "proxied GET vs bare @fastify/http-proxy", row: "gh-proxy", of: "bare-proxy", metric: "rps", op: ">=", value: 0.8 }],
  run: async (ctx) => {
    const upstream = await startServer("upstream");
    try {
      return await proxyRows(ctx, upstream);
    } finally {
      await upstream.stop();
    }
  },
};
