import type autocannon from "autocannon";
import { cannon, measureLoad, summarize, timedRound, type BenchContext, type LoadSpec } from "../lib/load.js";
import type { Row } from "../lib/report.js";
import { startServer, type Running } from "../lib/servers.js";
import { forwardHeaders, rulesFile } from "./gateway.js";
import { UNLIMITED_API, type Scenario } from "./scenario.js";

/** One rung: its level in bench/servers/ladder.ts (null: the raw node:http floor), what it adds, and the rung its delta is taken over. */
interface Rung {
  level: string | null;
  adds: string;
  /** The rung this one's "what this step costs" is measured over (null: over bare Fastify). */
  over: string | null;
  forwardAuth?: true;
}

const RUNGS: Rung[] = [
  { level: null, adds: "floor: raw node:http JSON hello (no Fastify)", over: null },
  { level: "L0", adds: "bare Fastify defaults, /me with Gatehouse's response schema and a fixed user (no auth)", over: null },
  { level: "L1", adds: "+ Gatehouse's server options (host routing, genReqId, logger + log controller, lazy child logger, ajv, error handlers)", over: "L0" },
  { level: "L2", adds: "+ stampRequestId + checkBan (root steps)", over: "L1" },
  { level: "L3", adds: "+ setApiHeaders", over: "L2" },
  { level: "L4", adds: "+ refuseQueryKeys", over: "L3" },
  { level: "L5", adds: "+ resolveSession (session cache; handler reads request.auth)", over: "L4" },
  { level: "L6", adds: "+ countRouteLimit(api)", over: "L5" },
  { level: "L7", adds: "+ refuseAccess (all of /me's steps)", over: "L6" },
  { level: "L7c", adds: "+ @fastify/cookie in the context (its onSend hook)", over: "L7" },
  { level: "L8", adds: "the real app (buildApp), as me-sqlite", over: "L7c" },
  { level: "Fmin", adds: "forward-auth: L1's server + root steps + resolveSession + the real forward-auth route", over: "L2", forwardAuth: true },
  { level: "Freal", adds: "forward-auth allow on the real app, as fwd-allow", over: "Fmin", forwardAuth: true },
];

const idOf = (level: string | null) => (level === null ? "ladder-raw" : `ladder-${level}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function startRung(rung: Rung): Promise<{ server: Running; spec: LoadSpec }> {
  if (rung.level === null) {
    const server = await startServer("upstream");
    return { server, spec: { pid: server.child.pid!, url: server.url("/hello"), expect: 200 } };
  }
  const env = { ...UNLIMITED_API, BENCH_LADDER_LEVEL: rung.level, ...(rung.forwardAuth ? { TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_CONFIG: rulesFile() } : {}) };
  const server = await startServer("ladder", env);
  const url = server.url(rung.forwardAuth ? "/api/authz/forward-auth" : "/api/auth/me");
  return { server, spec: { pid: server.child.pid!, url, headers: rung.forwardAuth ? forwardHeaders : {}, cookies: [server.ready.cookie!], expect: 200 } };
}

/** Each rung's rounds: its results and, per round, the bare Fastify round just before it. */
interface Tally {
  results: autocannon.Result[];
  cpu: number[];
  loadCpu: number[];
  ratios: number[];
  cpuRatios: number[];
  /** This round's CPU µs/answer minus the bare round's just before it. */
  overBare: number[];
}

/**
 * The ladder ablation (docs/performance.md, "Where the time goes (issue 14
 * ladder)"): GET /api/auth/me built up from bare Fastify one real pipeline
 * step at a time (bench/servers/ladder.ts), forward-auth beside it, and a
 * raw node:http hello as the floor. All rungs run at once (each its own
 * process on the server core, idle until its turn) and the rounds rotate
 * through them — every rung's round follows a round of bare Fastify — so
 * a machine that gets busier or quieter during the run moves every rung
 * alike. At least 5 rotations. Each row's note gives the server CPU per
 * answer the rung adds over bare Fastify in its paired rounds, and over the
 * rung below it: what that step costs.
 */
export const ladder: Scenario = {
  id: "ladder",
  needs: ["bare"],
  run: async (ctx) => {
    const started: { rung: Rung; server: Running; spec: LoadSpec }[] = [];
    try {
      for (const rung of RUNGS) started.push({ rung, ...(await startRung(rung)) });
      if (ctx.dry || !ctx.pairBare) {
        const rows: Row[] = [];
        for (const { rung, server, spec } of started) {
          const m = await measureLoad(spec, ctx, `ladder ${rung.level ?? "raw"}`);
          rows.push({ id: idOf(rung.level), title: `ladder ${rung.level ?? "raw"}: ${rung.adds}`, ...m, rssMb: server.rssMb() });
        }
        return rows;
      }
      return await rotate(ctx, ctx.pairBare, started);
    } finally {
      await Promise.all(started.map(({ server }) => server.stop()));
    }
  },
};

async function rotate(ctx: BenchContext, bare: LoadSpec, started: { rung: Rung; server: Running; spec: LoadSpec }[]): Promise<Row[]> {
  const seconds = ctx.duration;
  if (ctx.warmup > 0) {
    await cannon(bare, ctx, ctx.warmup);
    for (const { spec } of started) await cannon(spec, ctx, ctx.warmup);
  }
  const tallies = started.map((): Tally => ({ results: [], cpu: [], loadCpu: [], ratios: [], cpuRatios: [], overBare: [] }));
  const rotations = Math.max(5, ctx.rounds);
  for (let r = 0; r < rotations; r++) {
    ctx.log(`  rotation ${r + 1} of ${rotations}`);
    for (const [i, { spec }] of started.entries()) {
      const base = await timedRound(bare, ctx, seconds);
      const mine = await timedRound(spec, ctx, seconds);
      const t = tallies[i]!;
      t.results.push(mine.result);
      t.loadCpu.push(mine.loadCpuPct);
      const baseRps = base.result.statusCodeStats?.["200"]?.count ?? 0;
      const mineRps = mine.result.statusCodeStats?.["200"]?.count ?? 0;
      if (baseRps > 0) t.ratios.push(mineRps / mine.result.duration / (baseRps / base.result.duration));
      if (mine.cpuUs !== null) t.cpu.push(mine.cpuUs);
      if (base.cpuUs && mine.cpuUs) {
        t.cpuRatios.push(base.cpuUs / mine.cpuUs);
        t.overBare.push(mine.cpuUs - base.cpuUs);
      }
    }
  }
  const overBare = new Map(started.map(({ rung }, i) => [rung.level, median(tallies[i]!.overBare)]));
  const rows = started.map(({ rung, server, spec }, i): Row => {
    const t = tallies[i]!;
    const title = `ladder ${rung.level ?? "raw"}: ${rung.adds}`;
    const m = summarize(t.results, spec.expect, title);
    const mine = overBare.get(rung.level)!;
    const delta = rung.over === null ? mine : mine - overBare.get(rung.over)!;
    const fmt = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(0)} µs`;
    return {
      id: idOf(rung.level),
      title,
      ...m,
      cpuUs: Math.round(median(t.cpu)),
      loadCpuPct: median(t.loadCpu),
      pairedRatio: median(t.ratios),
      pairedCpu: median(t.cpuRatios),
      rssMb: server.rssMb(),
      baseline: "bare",
      note: `${fmt(mine)} CPU/answer over bare (paired)${rung.over === null ? "" : `; ${fmt(delta)} over ${rung.over}`}`,
    };
  });
  ctx.log("  ladder: server CPU µs/answer (median), × bare by CPU and by req/s (paired), CPU over bare and over the rung below:");
  for (const r of rows) ctx.log(`    ${r.id.padEnd(13)} ${String(r.cpuUs).padStart(5)} µs  ${r.pairedCpu?.toFixed(2)} ×  ${r.pairedRatio?.toFixed(2)} ×  ${r.note}`);
  return rows;
}
