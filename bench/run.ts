// npm run bench [-- --duration 5 --connections 50 --rounds 3]
// Each scenario starts its server fresh in a child process, warms up, runs
// autocannon (in this process) for several rounds, and reports median req/s,
// p50/p99 latency and the server's RSS, next to a baseline from the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import pg from "pg";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    postgres: { type: "string", default: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Math.max(3, Number(values.rounds));
const ROOT = join(import.meta.dirname, "..");

interface Ready {
  port: number;
  cookie?: string;
}
interface Result {
  scenario: string;
  baseline: string | null;
  rps: number;
  p50: number;
  p99: number;
  rssMb: number;
}

async function startServer(file: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) resolve(JSON.parse(line.slice(6)) as Ready);
    });
    child.on("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return { child, ready };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function load(url: string, headers: Record<string, string>, seconds: number) {
  return autocannon({ url, connections, duration: seconds, headers });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(scenario: string, baseline: string | null, file: string, path: string, env: Record<string, string> = {}): Promise<Result> {
  const { child, ready } = await startServer(file, env);
  try {
    const url = `http://127.0.0.1:${ready.port}${path}`;
    const headers: Record<string, string> = ready.cookie ? { cookie: ready.cookie } : {};
    const warm = await load(url, headers, 2);
    if (warm.non2xx > 0) throw new Error(`${scenario}: ${warm.non2xx} non-2xx answers during warm-up`);
    const runs = [];
    for (let i = 0; i < rounds; i++) runs.push(await load(url, headers, duration));
    return {
      scenario,
      baseline,
      rps: Math.round(median(runs.map((r) => r.requests.average))),
      p50: median(runs.map((r) => r.latency.p50)),
      p99: median(runs.map((r) => r.latency.p99)),
      rssMb: rssMb(child.pid!),
    };
  } finally {
    child.kill("SIGTERM");
  }
}

async function pgSchema(): Promise<string> {
  const schema = `gh_bench_${process.pid}`;
  const client = new pg.Client({ connectionString: values.postgres });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
  await client.end();
  return schema;
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: values.postgres });
  await client.connect();
  await client.query(`drop schema if exists ${schema} cascade`);
  await client.end();
}

// One signed-in client hammering /me would trip the 120/min API limit at once;
// the session-check scenarios lift it (the limiter's own cost stays in the path).
const unlimited = { RATE_LIMIT_API: "999999/1s" };
const results: Result[] = [];
results.push(await measure("bare Fastify GET /hello", null, "bench/servers/bare-fastify.ts", "/hello"));
results.push(await measure("Gatehouse GET /api/auth/me (SQLite)", "bare Fastify GET /hello", "bench/servers/gatehouse.ts", "/api/auth/me", unlimited));
const schema = await pgSchema();
try {
  results.push(
    await measure("Gatehouse GET /api/auth/me (PostgreSQL)", "bare Fastify GET /hello", "bench/servers/gatehouse.ts", "/api/auth/me", {
      ...unlimited,
      DATABASE_URL: values.postgres,
      BENCH_PG_SCHEMA: schema,
    }),
  );
} finally {
  await dropSchema(schema);
}

/**
 * Login flood: a signed-in client's GET /api/auth/me (10 connections) alone,
 * then while `connections` clients send wrong passwords for random usernames
 * from random client IPs (a distributed flood, through a trusted proxy
 * header), so per-IP limits and bans never trigger and every attempt costs a
 * full Argon2id verification: this measures hashing load shedding. All other
 * limits are the shipped defaults, except the per-user API limit for /me.
 */
async function measureFlood(): Promise<Result[]> {
  const flooded = {
    ...(process.env.HASH_CONCURRENCY ? { HASH_CONCURRENCY: process.env.HASH_CONCURRENCY } : {}),
    RATE_LIMIT_API: "999999/1s",
    TRUSTED_PROXIES: "127.0.0.1",
  };
  const { child, ready } = await startServer("bench/servers/gatehouse.ts", flooded);
  try {
    const url = `http://127.0.0.1:${ready.port}/api/auth/me`;
    const me = () => autocannon({ url, connections: 10, duration, headers: { cookie: ready.cookie! } });
    await autocannon({ url, connections: 10, duration: 2, headers: { cookie: ready.cookie! } });
    const quiet = await me();
    let n = 0;
    const flood = autocannon({
      url: `http://127.0.0.1:${ready.port}/api/auth/login`,
      connections,
      duration: duration + 2,
      requests: [
        {
          method: "POST",
          headers: { "content-type": "application/json", origin: "http://127.0.0.1" },
          setupRequest: (req) => {
            n++;
            const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
            return {
              ...req,
              headers: { ...req.headers, "x-forwarded-for": ip },
              body: JSON.stringify({ username: `flood${n}`, password: "wrong-password-123" }),
            };
          },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 1000));
    const loaded = await me();
    const f = await flood;
    const codes = Object.entries(f.statusCodeStats ?? {}).map(([code, s]) => `${code}: ${s.count}`).join(", ");
    console.log(`login flood answers: ${codes}; ${Math.round(f.requests.average)} req/s`);
    const row = (scenario: string, baseline: string | null, r: autocannon.Result): Result => ({
      scenario,
      baseline,
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
      rssMb: rssMb(child.pid!),
    });
    return [
      row("GET /api/auth/me, 10 conns, no flood", null, quiet),
      row(`GET /api/auth/me, 10 conns, during a ${connections}-conn login flood`, "GET /api/auth/me, 10 conns, no flood", loaded),
    ];
  } finally {
    child.kill("SIGTERM");
  }
}
results.push(...(await measureFlood()));

const byName = new Map(results.map((r) => [r.scenario, r]));
const lines = [
  `| scenario | req/s | ratio vs baseline | p50 ms | p99 ms | server RSS MB |`,
  `|---|---:|---:|---:|---:|---:|`,
  ...results.map((r) => {
    const base = r.baseline ? byName.get(r.baseline) : undefined;
    const ratio = base ? `${(r.rps / base.rps).toFixed(2)} × ${r.baseline} (p99 ${(r.p99 / Math.max(1, base.p99)).toFixed(1)}×)` : "baseline";
    return `| ${r.scenario} | ${r.rps} | ${ratio} | ${r.p50} | ${r.p99} | ${r.rssMb} |`;
  }),
];
console.log(`\n${connections} connections, ${rounds} rounds × ${duration}s (median)\n`);
console.log(lines.join("\n"));
mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
const file = join(ROOT, "bench", "results", `${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), connections, duration, rounds, results }, null, 2));
console.log(`\nwritten to ${file}`);
