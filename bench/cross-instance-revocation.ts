// npx tsx bench/cross-instance-revocation.ts [--n 200] [--out file]
// How long a session revoked on instance A stays usable on instance B.
// Two listening Gatehouse instances in this process share one PostgreSQL
// schema (GATEHOUSE_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test),
// each with its own session cache; run once with the Redis bus (REDIS_URL:
// GATEHOUSE_TEST_REDIS_URL, default redis://127.0.0.1:6379, one key prefix)
// and once with PostgreSQL LISTEN/NOTIFY (no REDIS_URL). For each of N
// sessions: issue it, warm B's cache (GET /api/auth/me on B), then send
// POST /api/auth/logout to A and poll A and B with GET /api/auth/me, each
// every millisecond over keep-alive HTTP, until each answers 401. Reported from the moment
// the sign-out was sent: A's answer to it, A refusing (the same-run
// baseline: A drops its own cache entry before answering), B refusing; B's
// delay after A's answer; and B minus A in the same sample. Everything runs
// in one Node process on this machine (servers and pollers share one event
// loop), so absolute figures include that contention. The caches' own re-read interval is 5 s, so
// every B figure below it is the bus.
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import pg from "pg";
import pino from "pino";
import { createGatehouse, type Gatehouse } from "../src/compose.js";
import { loadConfig } from "../src/config/load-config.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "200" }, out: { type: "string" } } });
const N = Math.max(10, Number(values.n));
const PG_URL = process.env.GATEHOUSE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const now = () => Number(process.hrtime.bigint()) / 1e6;
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
};
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function call(port: number, method: "GET" | "POST", path: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, agent, headers: { cookie, ...(method === "POST" ? { origin: `http://127.0.0.1:${port}`, "content-length": "0" } : {}) } }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

interface Instance {
  gh: Gatehouse;
  port: number;
}

async function start(env: Record<string, string>, schema: string, redisPrefix: string | undefined, secretKey: string): Promise<Instance> {
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: "test",
    SECRET_KEY: secretKey,
    LOG_LEVEL: "error",
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: PG_URL,
    GATEHOUSE_DATA_DIR: `/tmp/gatehouse-bench-revocation-${process.pid}`,
    RATE_LIMIT_API: "100000/1m",
    RATE_LIMIT_LOGIN: "100000/1m",
    ...env,
  });
  const gh = await createGatehouse({ config, logger: pino({ level: "error" }), schema, ...(redisPrefix ? { redisPrefix } : {}) });
  await gh.app.listen({ port, host: "127.0.0.1" });
  return { gh, port };
}

/** Polls `port` every millisecond (one request in flight) until the session is refused; the time since `t0`. */
async function refusedAt(port: number, cookie: string, t0: number): Promise<number> {
  for (;;) {
    if ((await call(port, "GET", "/api/auth/me", cookie)) === 401) return now() - t0;
    if (now() - t0 > 10_000) throw new Error(`port ${port} still accepts after 10 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Run {
  bus: string;
  logoutAnswered: number[];
  aRefuses: number[];
  bRefuses: number[];
  bAfterAnswer: number[];
  bOverA: number[];
}

async function run(bus: "redis" | "postgres"): Promise<Run> {
  const schema = `gh_bench_rev_${bus}_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const prefix = bus === "redis" ? `gh_bench:${process.pid}:${randomBytes(4).toString("hex")}:` : undefined;
  const env: Record<string, string> = bus === "redis" ? { REDIS_URL } : {};
  const secretKey = randomBytes(32).toString("hex");
  const a = await start(env, schema, prefix, secretKey);
  const b = await start(env, schema, prefix, secretKey);
  const out: Run = { bus, logoutAnswered: [], aRefuses: [], bRefuses: [], bAfterAnswer: [], bOverA: [] };
  try {
    if (a.gh.revocations?.kind !== bus || b.gh.revocations?.kind !== bus) throw new Error(`expected the ${bus} bus, got ${a.gh.revocations?.kind}`);
    const userId = randomUUID();
    const inserted = await a.gh.stores.users.insert({ id: userId, username: "bench", usernameNormalized: "bench", email: null, emailNormalized: null, passwordHash: null, role: "user", createdAt: Date.now() });
    if (!inserted.ok) throw new Error(inserted.conflict);
    for (let i = 0; i < N + 10; i++) {
      const issued = await a.gh.sessions.create(userId, { ip: "127.0.0.1", userAgent: "bench" }, false, ["pwd"]);
      const cookie = `gatehouse_session=${issued.token}`;
      if ((await call(b.port, "GET", "/api/auth/me", cookie)) !== 200) throw new Error("B does not accept a fresh session");
      if ((await call(a.port, "GET", "/api/auth/me", cookie)) !== 200) throw new Error("A does not accept a fresh session");
      const t0 = now();
      let answered = NaN;
      const logout = call(a.port, "POST", "/api/auth/logout", cookie).then((status) => {
        answered = now() - t0;
        if (status >= 300) throw new Error(`logout answered ${status}`);
      });
      const [, aMs, bMs] = await Promise.all([logout, refusedAt(a.port, cookie, t0), refusedAt(b.port, cookie, t0)]);
      if (i < 10) continue; // warm-up
      out.logoutAnswered.push(answered);
      out.aRefuses.push(aMs);
      out.bRefuses.push(bMs);
      out.bAfterAnswer.push(Math.max(0, bMs - answered));
      out.bOverA.push(bMs - aMs);
    }
  } finally {
    await a.gh.close();
    await b.gh.close();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
  return out;
}

const runs = [await run("redis"), await run("postgres")];
agent.destroy();
const fmt = (xs: number[]) => ({ p50: +quantile(xs, 0.5).toFixed(2), p99: +quantile(xs, 0.99).toFixed(2), max: +Math.max(...xs).toFixed(2) });
const report = runs.map((r) => ({
  bus: r.bus,
  n: r.bRefuses.length,
  logoutAnsweredMs: fmt(r.logoutAnswered),
  baselineARefusesMs: fmt(r.aRefuses),
  bRefusesMs: fmt(r.bRefuses),
  bAfterLogoutAnswerMs: fmt(r.bAfterAnswer),
  bMinusBaselineMs: fmt(r.bOverA),
}));
console.log(JSON.stringify({ n: N, cores: (await import("node:os")).cpus().length, node: process.version, runs: report }, null, 2));
if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
