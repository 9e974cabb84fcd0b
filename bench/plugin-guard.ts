// npx tsx bench/plugin-guard.ts [--duration 5] [--connections 50] [--rounds 3] [--out bench/results/plugin-guard.json]
// What the gatehouse/fastify plugin's guard costs a host route. One host
// Fastify app (a child process, `--serve`) with the plugin at /auth and two
// routes answering the same `{"ok":true}`: GET /bare (no config: the plugin
// adds nothing) and GET /guarded (`config.access: "user"`: ban check, session
// resolution through the in-process session cache, access check,
// request.user). The load (autocannon, this process) sends a signed-in
// user's cookie to both, alternating bare and guarded rounds in the SAME run,
// and reports each one's median req/s and p99 latency and the ratio
// guarded/bare. SQLite in a temp dir, no Redis, NODE_ENV=production.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: {
    serve: { type: "boolean", default: false },
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "50" },
    rounds: { type: "string", default: "3" },
    out: { type: "string", default: join(import.meta.dirname, "results", "plugin-guard.json") },
  },
});

/** The host app: the plugin, a signed-in user, and the two routes; prints `READY {port, cookie}`. */
async function serve(): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const { gatehouse } = await import("gatehouse/fastify");
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-plugin-"));
  const app = Fastify({ logger: false });
  await app.register(gatehouse, {
    prefix: "/auth",
    housekeeping: false,
    env: { NODE_ENV: "production", GATEHOUSE_ALLOW_INSECURE_HTTP: "true", PUBLIC_URL: "http://127.0.0.1", SECRET_KEY: randomBytes(32).toString("hex"), GATEHOUSE_DATA_DIR: dataDir, REGISTRATION: "open", LOG_LEVEL: "silent" },
  });
  app.get("/bare", async () => ({ ok: true }));
  app.get("/guarded", { config: { access: "user" } }, async () => ({ ok: true }));
  const reg = await app.inject({ method: "POST", url: "/auth/api/auth/register", headers: { origin: "http://127.0.0.1" }, payload: { username: "bench", password: "tulip-orbit-lantern-42" } });
  const cookie = reg.cookies.find((c) => c.name === "gatehouse_session");
  if (reg.statusCode !== 201 || cookie === undefined) throw new Error(`sign-up failed: ${reg.statusCode} ${reg.body}`);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  process.stdout.write(`READY ${JSON.stringify({ port, cookie: `${cookie.name}=${cookie.value}` })}\n`);
  process.once("SIGTERM", () => {
    void app.close().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function load(url: string, cookie: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: Number(values.connections), duration: seconds, headers: { cookie } });
}

async function run(): Promise<void> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", import.meta.filename, "--serve"], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env } });
  const ready = await new Promise<{ port: number; cookie: string }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => line.startsWith("READY ") && resolve(JSON.parse(line.slice(6)) as { port: number; cookie: string }));
    child.once("exit", (code) => reject(new Error(`server exited (${code})`)));
  });
  try {
    const base = `http://127.0.0.1:${ready.port}`;
    for (const path of ["/bare", "/guarded"]) {
      const check = await fetch(base + path, { headers: { cookie: ready.cookie } });
      if (check.status !== 200) throw new Error(`${path} answered ${check.status}`);
    }
    const seconds = Number(values.duration);
    // Warm-up of both routes (JIT, session cache), then alternating rounds.
    await load(`${base}/bare`, ready.cookie, 2);
    await load(`${base}/guarded`, ready.cookie, 2);
    const rounds: Record<"bare" | "guarded", { rps: number; p99: number; non2xx: number }[]> = { bare: [], guarded: [] };
    for (let i = 0; i < Math.max(1, Number(values.rounds)); i++) {
      for (const name of ["bare", "guarded"] as const) {
        const r = await load(`${base}/${name}`, ready.cookie, seconds);
        rounds[name].push({ rps: r.requests.average, p99: r.latency.p99, non2xx: r.non2xx + r.errors });
      }
    }
    const summary = (name: "bare" | "guarded") => ({ reqPerSec: Math.round(median(rounds[name].map((r) => r.rps))), p99Ms: median(rounds[name].map((r) => r.p99)), rounds: rounds[name] });
    const bare = summary("bare");
    const guarded = summary("guarded");
    const result = {
      date: new Date().toISOString(),
      // A busy host (other processes on the cores) lowers both figures; the ratio is the comparable number.
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", node: process.version, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 10) / 10) },
      settings: { durationS: seconds, connections: Number(values.connections), rounds: rounds.bare.length, database: "sqlite", sessionCache: "on (default)", pinned: false },
      bare,
      guarded,
      ratio: Math.round((guarded.reqPerSec / bare.reqPerSec) * 100) / 100,
    };
    mkdirSync(dirname(values.out), { recursive: true });
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`bare ${bare.reqPerSec} req/s p99 ${bare.p99Ms} ms | guarded ${guarded.reqPerSec} req/s p99 ${guarded.p99Ms} ms | ratio ${result.ratio}\n`);
  } finally {
    child.kill("SIGTERM");
  }
}

await (values.serve ? serve() : run());
