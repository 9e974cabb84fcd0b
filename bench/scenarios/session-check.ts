import pg from "pg";
import { measureLoad } from "../lib/load.js";
import { withServer } from "../lib/servers.js";
import type { Row } from "../lib/report.js";
import { UNLIMITED_API, type Scenario } from "./scenario.js";

/** Bare Fastify JSON hello-world: the ceiling for anything on Node here. */
export const bare: Scenario = {
  id: "bare",
  run: (ctx) =>
    withServer("bare-fastify", {}, async (s) => {
      const m = await measureLoad({ pid: s.child.pid!, url: s.url("/hello"), expect: 200 }, ctx, "bare Fastify");
      return [{ id: "bare", title: "bare Fastify GET /hello", ...m, rssMb: s.rssMb() }];
    }),
};

async function meRow(id: string, title: string, env: Record<string, string>, ctx: Parameters<Scenario["run"]>[0], note?: string): Promise<Row> {
  return withServer("gatehouse", { ...UNLIMITED_API, ...env }, async (s) => {
    const m = await measureLoad({ pid: s.child.pid!, url: s.url("/api/auth/me"), cookies: [s.ready.cookie!], expect: 200 }, ctx, title, false, ctx.pairBare);
    return { id, title, ...m, rssMb: s.rssMb(), baseline: "bare", ...(note ? { note } : {}) };
  });
}

/** GET /api/auth/me with a valid session on SQLite, the in-process cache warm. */
export const meSqlite: Scenario = {
  id: "me-sqlite",
  needs: ["bare"],
  targets: [{ label: "/api/auth/me on SQLite vs bare Fastify", row: "me-sqlite", of: "bare", metric: "rps", op: ">=", value: 0.6 }],
  run: async (ctx) => [await meRow("me-sqlite", "Gatehouse GET /api/auth/me (SQLite, cache warm)", {}, ctx)],
};

/** The same with every lookup a cache miss: the SQLite read path. */
export const meCold: Scenario = {
  id: "me-cold",
  needs: ["bare", "lookup"],
  targets: [
    { label: "/api/auth/me with the session cache off vs bare Fastify", row: "me-cold", of: "bare", metric: "rps", op: ">=", value: 0.3 },
    { label: "/api/auth/me with the session cache off vs the minimal prepared lookup", row: "me-cold", of: "lookup-db", metric: "rps", op: ">=", value: 0.7 },
  ],
  run: async (ctx) => [
    await meRow("me-cold", "Gatehouse GET /api/auth/me (SQLite, cache off: every check reads the DB)", { BENCH_CACHE: "off" }, ctx, "session cache size 0"),
  ],
};

/**
 * The floor under a session check on SQLite (bench/servers/minimal-lookup.ts):
 * bare Fastify + cookie + SHA-256 + one prepared statement joining the session
 * with its user, on tables of Gatehouse's shape, 1,000 sessions; once with
 * every check reading the database, once with a Map-based LRU in front.
 */
export const lookup: Scenario = {
  id: "lookup",
  needs: ["bare"],
  run: async (ctx) => {
    const rows: Row[] = [];
    for (const cache of ["off", "on"] as const) {
      const id = cache === "off" ? "lookup-db" : "lookup-lru";
      const title =
        cache === "off"
          ? "minimal lookup: bare Fastify + cookie + SHA-256 + one prepared SQLite join, no cache"
          : "minimal lookup with a Map-based LRU in front (10,000 entries, 5 s)";
      rows.push(
        await withServer("minimal-lookup", { BENCH_SESSIONS: "1000", BENCH_LRU: cache }, async (s) => {
          const m = await measureLoad({ pid: s.child.pid!, url: s.url("/api/auth/me"), cookies: [s.ready.cookie!], expect: 200 }, ctx, title, false, ctx.pairBare);
          return { id, title, ...m, rssMb: s.rssMb(), baseline: "bare" };
        }),
      );
    }
    return rows;
  },
};

/** GET /api/auth/me on PostgreSQL, in a schema of its own dropped afterwards. */
export const mePostgres: Scenario = {
  id: "me-pg",
  needs: ["bare"],
  run: async (ctx) => {
    const title = "Gatehouse GET /api/auth/me (PostgreSQL, cache warm)";
    const schema = `gh_bench_${process.pid}`;
    const admin = new pg.Client({ connectionString: ctx.postgres });
    try {
      await admin.connect();
    } catch (err) {
      return [{ id: "me-pg", title, rps: null, p50: null, p99: null, rssMb: null, error: `PostgreSQL unreachable at ${ctx.postgres} (${(err as Error).message}); set --postgres or BENCH_PG_URL` }];
    }
    try {
      await admin.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
      return [await meRow("me-pg", title, { DATABASE_URL: ctx.postgres, BENCH_PG_SCHEMA: schema }, ctx)];
    } finally {
      await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await admin.end();
    }
  },
};
