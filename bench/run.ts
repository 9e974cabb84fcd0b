// npm run bench [-- --quick] [--duration 5] [--connections 50] [--rounds 3]
//                  [--only bare,me-sqlite,...] [--dry-run] [--no-pin] [--postgres URL] [--sessions 1000,100000,1000000]
// Every scenario starts its server(s) fresh in a child process (compiled to
// plain JS, run on bare `node`), warms up, runs autocannon in a load process
// of its own (bench/lib/load-process.ts) for several rounds, and reports
// median req/s, p50/p99 latency, the server's CPU per answer and its RSS,
// next to a baseline measured in the same run. With two or more cores and
// `taskset`, servers run pinned to one core and the load to another.
// Results go to bench/results/<date>.json and a Markdown table; see docs/performance.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { placement } from "./lib/cores.js";
import type { BenchContext } from "./lib/load.js";
import { evaluate, markdown, type Row, type Target } from "./lib/report.js";
import { buildServers, ROOT, startServer, usePlacement } from "./lib/servers.js";
import { banned, loginFlood } from "./scenarios/abuse.js";
import { idle, sessions, sessionTargets } from "./scenarios/footprint.js";
import { forwardAuth, reverseProxy } from "./scenarios/gateway.js";
import { ladder } from "./scenarios/ladder.js";
import { login } from "./scenarios/login.js";
import { loginTotp } from "./scenarios/login-totp.js";
import { peer } from "./scenarios/peer.js";
import type { Scenario } from "./scenarios/scenario.js";
import { bare, lookup, meCold, mePostgres, meSqlite } from "./scenarios/session-check.js";

const SCENARIOS: Scenario[] = [bare, lookup, meSqlite, mePostgres, meCold, forwardAuth, reverseProxy, login, loginTotp, loginFlood, banned, idle, sessions, peer, ladder];

const { values } = parseArgs({
  options: {
    duration: { type: "string" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string" },
    quick: { type: "boolean", default: false },
    "dry-run": { type: "boolean", default: false },
    "no-pin": { type: "boolean", default: false },
    only: { type: "string" },
    sessions: { type: "string" },
    postgres: { type: "string", default: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `npm run bench -- [--quick] [--dry-run] [--no-pin] [--only ${SCENARIOS.map((s) => s.id).join(",")}]\n` +
      "  [--duration s] [--connections n] [--rounds n (>= 3)] [--warmup s] [--sessions 1000,100000,1000000] [--postgres url] [--out dir]\n",
  );
  process.exit(0);
}

const quick = values.quick;
const ctx: BenchContext = {
  duration: Number(values.duration ?? (quick ? 2 : 5)),
  connections: Number(values.connections),
  rounds: Math.max(3, Number(values.rounds)),
  warmup: Number(values.warmup ?? (quick ? 1 : 2)),
  dry: values["dry-run"],
  quick,
  postgres: values.postgres,
  sessionSizes: (values.sessions ?? (quick ? "1000,100000" : "1000,100000,1000000")).split(",").map(Number),
  log: (m) => process.stderr.write(`${m}\n`),
};
for (const [name, v] of Object.entries({ duration: ctx.duration, connections: ctx.connections, warmup: ctx.warmup })) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
}
if (ctx.sessionSizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("--sessions must be a comma-separated list of positive integers");

// --only picks scenarios; the baselines their ratios need come along.
const known = new Map(SCENARIOS.map((s) => [s.id, s]));
let selected = new Set(SCENARIOS.map((s) => s.id));
if (values.only) {
  selected = new Set();
  const add = (id: string) => {
    const s = known.get(id);
    if (!s) throw new Error(`unknown scenario "${id}"; known: ${[...known.keys()].join(", ")}`);
    if (selected.has(id)) return;
    selected.add(id);
    for (const need of s.needs ?? []) add(need);
  };
  for (const id of values.only.split(",").map((x) => x.trim()).filter(Boolean)) add(id);
}

const place = placement(!values["no-pin"]);
usePlacement(place);
ctx.log(`building bench servers… (${place.describe})`);
await buildServers();
// A bare Fastify kept running through the run: the scenarios compared with it alternate rounds with it.
const pairedServer = !ctx.dry && selected.has("bare") ? await startServer("bare-fastify") : null;
if (pairedServer) ctx.pairBare = { pid: pairedServer.child.pid!, url: pairedServer.url("/hello"), expect: 200 };
const rows: Row[] = [];
const byId = new Map<string, Row>();
const started = Date.now();
for (const scenario of SCENARIOS.filter((s) => selected.has(s.id))) {
  const t = Date.now();
  ctx.log(`${ctx.dry ? "checking" : "measuring"} ${scenario.id}…`);
  let produced: Row[];
  try {
    produced = await scenario.run(ctx, byId);
  } catch (err) {
    produced = [{ id: scenario.id, title: scenario.id, rps: null, p50: null, p99: null, rssMb: null, error: (err as Error).message }];
  }
  for (const row of produced) {
    rows.push(row);
    byId.set(row.id, row);
    if (row.error) ctx.log(`  ${row.id}: ERROR ${row.error}`);
    else if (!ctx.dry) ctx.log(`  ${row.id}: ${row.rps ?? "–"} req/s, p99 ${row.p99 ?? "–"} ms, RSS ${row.rssMb ?? "–"} MB`);
  }
  ctx.log(`  (${((Date.now() - t) / 1000).toFixed(0)} s)`);
}

await pairedServer?.stop();
const errors = rows.filter((r) => r.error);
if (ctx.dry) {
  process.stdout.write(`dry run: ${rows.length - errors.length} of ${rows.length} checks answered as expected\n`);
  for (const r of errors) process.stdout.write(`  FAILED ${r.id}: ${r.error}\n`);
  process.exit(errors.length > 0 ? 1 : 0);
}

const targets: Target[] = SCENARIOS.filter((s) => selected.has(s.id)).flatMap((s) => s.targets ?? []);
if (selected.has("sessions")) targets.push(...sessionTargets(ctx.sessionSizes));
const evaluated = evaluate(targets, byId);
const header = `${ctx.connections} connections, ${ctx.rounds} rounds × ${ctx.duration} s after ${ctx.warmup} s warm-up (medians), Node ${process.version}, ${availableParallelism()} cores: ${place.describe}, autocannon in its own process, ${new Date().toISOString()}`;
const table = markdown(rows, evaluated, header);
process.stdout.write(`\n${table}\n`);
const dir = values.out ?? join(ROOT, "bench", "results");
mkdirSync(dir, { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
const file = join(dir, `${stamp}.json`);
writeFileSync(
  file,
  JSON.stringify(
    { at: new Date().toISOString(), node: process.version, cores: availableParallelism(), placement: place, ...ctx, log: undefined, pairBare: undefined, seconds: Math.round((Date.now() - started) / 1000), rows, targets: evaluated },
    null,
    2,
  ),
);
writeFileSync(join(dir, `${stamp}.md`), `${table}\n`);
process.stdout.write(`\nwritten to ${file} (and .md) in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(errors.length > 0 ? 1 : 0);
