// In-process micro-benchmark for profiling work on a busy machine:
//   npx tsx bench/micro.ts [--cache off] [--path /api/auth/me] [--batches 30] [--size 2000]
// Builds bare Fastify and Gatehouse (logging at info into a file) in this
// process and alternates batches of `app.inject` calls between them; reports
// the median CPU time (user + system) per request of each, and their ratio. Run under `node --cpu-prof --import tsx` to profile.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { createGatehouse } from "../src/compose.js";
import { loadConfig } from "../src/config/load-config.js";
import { loggerOptions } from "../src/logging/logger-options.js";

const { values } = parseArgs({
  options: {
    cache: { type: "string", default: "on" },
    path: { type: "string", default: "/api/auth/me" },
    batches: { type: "string", default: "30" },
    size: { type: "string", default: "2000" },
    forward: { type: "boolean", default: false },
  },
});

const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-micro-"));
const config = loadConfig({
  NODE_ENV: "production",
  GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  PUBLIC_URL: "http://127.0.0.1",
  RATE_LIMIT_API: "999999/1s",
  TRUSTED_PROXIES: "127.0.0.1",
  ...(process.env.GATEHOUSE_CONFIG ? { GATEHOUSE_CONFIG: process.env.GATEHOUSE_CONFIG } : {}),
  ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}),
});
const logger = pino(loggerOptions(config.logLevel), pino.destination({ dest: join(dataDir, "gatehouse.log"), sync: false }));
const gh = await createGatehouse({ config, logger, ...(values.cache === "off" ? { sessionCacheSize: 0 } : {}) });
const { issued } = await gh.accounts.register({ username: "microbench", password: "bench-orchid-lantern-93" }, { ip: "127.0.0.1", userAgent: "bench" });
const cookie = `gatehouse_session=${issued!.token}`;
const bare = Fastify({ logger: false });
bare.get("/hello", async () => ({ hello: "world" }));
await bare.ready();

const headers: Record<string, string> = { cookie };
if (values.forward) Object.assign(headers, { "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.bench.test", "x-forwarded-uri": "/x", accept: "application/json" });

async function batch(app: FastifyInstance, url: string, n: number): Promise<number> {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const res = await app.inject({ method: "GET", url, headers, remoteAddress: "127.0.0.1" });
    if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  }
  const used = process.cpuUsage(t);
  return (used.user + used.system) / n;
}

const size = Number(values.size);
const times = { bare: [] as number[], gh: [] as number[] };
for (let i = 0; i < Number(values.batches); i++) {
  times.bare.push(await batch(bare, "/hello", size));
  times.gh.push(await batch(gh.app, values.path, size));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const best = { bare: median(times.bare), gh: median(times.gh) };
console.log(`CPU per request (median of batches): bare ${best.bare.toFixed(1)} µs, gatehouse ${values.path} ${best.gh.toFixed(1)} µs, ratio ${(best.bare / best.gh).toFixed(3)}`);
await gh.close();
process.exit(0);
