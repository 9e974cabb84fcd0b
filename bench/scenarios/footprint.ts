import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkOnce, measureLoad } from "../lib/load.js";
import { runScript, startProduction, withServer } from "../lib/servers.js";
import type { Row } from "../lib/report.js";
import { UNLIMITED_API, type Scenario } from "./scenario.js";

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Idle RSS 3 s after start (nothing served yet) of the process that serves,
 * run as production runs it (docs/deployment.md): `npm run build`'s tsc output,
 * `node dist/main.js`, NODE_ENV=production, logs to stdout; next to bare Fastify.
 */
export const idle: Scenario = {
  id: "idle",
  targets: [{ label: "Gatehouse idle RSS (node dist/main.js)", row: "idle-gatehouse", metric: "rssMb", op: "<=", value: 80 }],
  run: async (ctx) => {
    const wait = ctx.dry ? 0 : 3000;
    const bare = await withServer("bare-fastify", {}, async (s) => {
      await settle(wait);
      if (ctx.dry) await checkOnce({ url: s.url("/hello"), expect: 200 }, "idle bare");
      return s.rssMb();
    });
    const prod = await startProduction({
      SECRET_KEY: randomBytes(32).toString("hex"),
      PUBLIC_URL: "http://127.0.0.1",
      GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
    });
    let gh: number;
    try {
      await settle(wait);
      gh = prod.rssMb();
      if (ctx.dry) await checkOnce({ url: prod.url("/healthz"), expect: 200 }, "idle Gatehouse (node dist/main.js)");
    } finally {
      await prod.stop();
    }
    const none = { rps: null, p50: null, p99: null };
    return [
      { id: "idle-bare", title: "bare Fastify, idle after start", ...none, rssMb: bare },
      {
        id: "idle-gatehouse",
        title: "Gatehouse as production runs it (tsc build, node dist/main.js, SQLite, logs to stdout), idle after start",
        ...none,
        rssMb: gh,
        baseline: "idle-bare",
        compare: "rss",
        note: `${gh - bare} MB over bare Fastify`,
      },
    ] satisfies Row[];
  },
};

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/**
 * Session checks against a SQLite table of 1k, 100k and 1M sessions (seeded
 * in bulk in a separate process): GET /api/auth/me round robin over 1,000
 * sessions spread through the table, once as shipped (the in-process cache
 * on) and once with the cache off, so every check reads the table. Reports
 * p99 and the server's RSS after the load.
 */
export const sessions: Scenario = {
  id: "sessions",
  run: async (ctx) => {
    const rows: Row[] = [];
    const sizes = ctx.dry ? [Math.min(...ctx.sessionSizes, 1000)] : ctx.sessionSizes;
    const first = `sessions-${label(sizes[0]!)}`;
    for (const size of sizes) {
      const id = `sessions-${label(size)}`;
      const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-seed-"));
      const secret = randomBytes(32).toString("hex");
      try {
        const started = Date.now();
        const seeded = await runScript("seed-sessions", { BENCH_DATA_DIR: dir, BENCH_SESSIONS: String(size), BENCH_SAMPLE: "1000", BENCH_SECRET_KEY: secret });
        const out = JSON.parse(seeded.find((l) => l.startsWith("SEEDED "))!.slice(7)) as { cookies: string[] };
        ctx.log(`  seeded ${size} sessions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        for (const cache of ["on", "off"] as const) {
          const rowId = cache === "on" ? id : `${id}-db`;
          const baseId = cache === "on" ? first : `${first}-db`;
          const env = { ...UNLIMITED_API, BENCH_DATA_DIR: dir, BENCH_SECRET_KEY: secret, BENCH_NO_USER: "1", ...(cache === "off" ? { BENCH_CACHE: "off" } : {}) };
          const row = await withServer("gatehouse", env, async (s) => {
            const m = await measureLoad({ pid: s.child.pid!, url: s.url("/api/auth/me"), cookies: out.cookies, expect: 200 }, ctx, `${size} sessions, cache ${cache}`);
            return { ...m, rssMb: s.rssMb() };
          });
          rows.push({
            id: rowId,
            title:
              cache === "on"
                ? `GET /api/auth/me with ${label(size)} sessions in SQLite (as shipped: cache on; 1,000 sessions round robin)`
                : `GET /api/auth/me with ${label(size)} sessions in SQLite (cache off: every check reads the table)`,
            ...row,
            ...(rowId === baseId ? {} : { baseline: baseId, compare: "p99" as const }),
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return rows;
  },
};

/** The ±20 % target reads the largest size measured against the smallest, as shipped and on the database path. */
export function sessionTargets(sizes: number[]) {
  const sorted = [...sizes].sort((a, b) => a - b);
  const big = label(sorted.at(-1)!);
  const small = label(sorted[0]!);
  return [
    { label: `session-check p99, ${big} vs ${small} sessions (as shipped)`, row: `sessions-${big}`, of: `sessions-${small}` },
    { label: `session-check p99, ${big} vs ${small} sessions (cache off)`, row: `sessions-${big}-db`, of: `sessions-${small}-db` },
  ].map((t) => ({ ...t, metric: "p99" as const, op: "within" as const, value: 0.2 }));
}
