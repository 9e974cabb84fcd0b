import { measureLoad, type BenchContext } from "../lib/load.js";
import type { Row } from "../lib/report.js";
import { withServer } from "../lib/servers.js";
import { forwardHeaders, rulesFile } from "./gateway.js";
import { UNLIMITED_API, type Scenario } from "./scenario.js";

/** One rung: its level in bench/servers/ladder.ts, what it adds, and the rung its CPU delta is taken over. */
interface Rung {
  level: string;
  adds: string;
  /** The row id this rung's "what this step costs" is measured against. */
  over: string;
  forwardAuth?: true;
}

const RUNGS: Rung[] = [
  { level: "L0", adds: "bare Fastify defaults, /me with Gatehouse's response schema and a fixed user (no auth)", over: "bare" },
  { level: "L1", adds: "+ Gatehouse's server options (host routing, genReqId, logger + log controller, lazy child logger, ajv, error handlers)", over: "ladder-L0" },
  { level: "L2", adds: "+ stampRequestId + checkBan (root steps)", over: "ladder-L1" },
  { level: "L3", adds: "+ setApiHeaders", over: "ladder-L2" },
  { level: "L4", adds: "+ refuseQueryKeys", over: "ladder-L3" },
  { level: "L5", adds: "+ resolveSession (session cache; handler reads request.auth)", over: "ladder-L4" },
  { level: "L6", adds: "+ countRouteLimit(api)", over: "ladder-L5" },
  { level: "L7", adds: "+ refuseAccess (all of /me's steps)", over: "ladder-L6" },
  { level: "L7c", adds: "+ @fastify/cookie in the context (its onSend hook)", over: "ladder-L7" },
  { level: "L8", adds: "the real app (buildApp), as me-sqlite", over: "ladder-L7c" },
  { level: "Fmin", adds: "forward-auth: L1's server + root steps + resolveSession + the real forward-auth route", over: "ladder-L2", forwardAuth: true },
  { level: "Freal", adds: "forward-auth allow on the real app, as fwd-allow", over: "ladder-Fmin", forwardAuth: true },
];

async function rungRow(rung: Rung, ctx: BenchContext): Promise<Row> {
  const id = `ladder-${rung.level}`;
  const title = `ladder ${rung.level}: ${rung.adds}`;
  const env = { ...UNLIMITED_API, BENCH_LADDER_LEVEL: rung.level, ...(rung.forwardAuth ? { TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_CONFIG: rulesFile() } : {}) };
  return withServer("ladder", env, async (s) => {
    const url = s.url(rung.forwardAuth ? "/api/authz/forward-auth" : "/api/auth/me");
    const headers = rung.forwardAuth ? forwardHeaders : {};
    const m = await measureLoad({ pid: s.child.pid!, url, headers, cookies: [s.ready.cookie!], expect: 200 }, ctx, title, false, ctx.pairBare);
    return { id, title, ...m, rssMb: s.rssMb(), baseline: "bare" };
  });
}

/**
 * The ladder ablation (docs/performance.md, "Where the time goes (issue 14
 * ladder)"): GET /api/auth/me built up from bare Fastify one real pipeline
 * step at a time (bench/servers/ladder.ts), and forward-auth beside it,
 * every rung paired with bare Fastify; each row's note gives the server CPU
 * per answer it adds over the rung below it — what that step costs. A raw
 * node:http hello (no Fastify) is the floor under the ladder.
 */
export const ladder: Scenario = {
  id: "ladder",
  needs: ["bare"],
  run: async (ctx, before) => {
    const rows: Row[] = [];
    rows.push(
      await withServer("upstream", {}, async (s) => ({
        id: "ladder-raw",
        title: "ladder floor: raw node:http JSON hello (no Fastify)",
        ...(await measureLoad({ pid: s.child.pid!, url: s.url("/hello"), expect: 200 }, ctx, "raw node:http", false, ctx.pairBare)),
        rssMb: s.rssMb(),
        baseline: "bare",
      })),
    );
    for (const rung of RUNGS) {
      try {
        rows.push(await rungRow(rung, ctx));
      } catch (err) {
        rows.push({ id: `ladder-${rung.level}`, title: `ladder ${rung.level}: ${rung.adds}`, rps: null, p50: null, p99: null, rssMb: null, error: (err as Error).message });
      }
    }
    if (ctx.dry) return rows;
    const byId = new Map([...before, ...rows.map((r) => [r.id, r] as const)]);
    for (const [i, rung] of RUNGS.entries()) {
      const row = rows[i + 1]!;
      const under = byId.get(rung.over);
      if (row.cpuUs == null || under?.cpuUs == null) continue;
      const delta = row.cpuUs - under.cpuUs;
      row.note = `${delta >= 0 ? "+" : ""}${delta} µs CPU/answer over \`${rung.over}\``;
    }
    ctx.log("  ladder (server CPU µs/answer, Δ over the rung below):");
    for (const r of rows) ctx.log(`    ${r.id.padEnd(13)} ${String(r.cpuUs ?? "–").padStart(5)} µs  ${r.pairedCpu?.toFixed(2) ?? "–"} × bare by CPU  ${r.pairedRatio?.toFixed(2) ?? "–"} × by req/s  ${r.note ?? r.error ?? ""}`);
    return rows;
  },
};
