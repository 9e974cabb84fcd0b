// npx tsx bench/reset-timing.ts [--samples 300] [--register-samples 60] [--postgres] [--out file]
// Enumeration by timing (RST-01): sends POST /api/auth/forgot-password over
// real HTTP (loopback) to a listening Gatehouse with a real SMTP sink, for
// registered and unregistered addresses in a random interleaved order, each
// from its own client IP (X-Forwarded-For from a trusted proxy) and each
// address once, so no quota short-cuts either side. Reports the latency
// distributions of the two groups and their difference. Not a unit test: a
// timing comparison belongs in a benchmark, not in a flaky assertion.
// Second part: POST /api/auth/register with verification required, for a new
// address vs an already registered one (both answer 202).
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import pg from "pg";
import pino from "pino";
import { createGatehouse } from "../src/compose.js";
import { loadConfig } from "../src/config/load-config.js";
import { startSmtpSink } from "../test/helpers/smtp-sink.js";

const { values } = parseArgs({
  options: {
    samples: { type: "string", default: "300" },
    "register-samples": { type: "string", default: "60" },
    postgres: { type: "boolean", default: false },
    "pg-url": { type: "string", default: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
    out: { type: "string" },
  },
});
const SAMPLES = Number(values.samples);
const REGISTER_SAMPLES = Number(values["register-samples"]);
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
const PUBLIC_URL = "https://auth.example.test";

const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-reset-"));
const schema = values.postgres ? `bench_reset_${randomBytes(4).toString("hex")}` : undefined;
if (schema) {
  const c = new pg.Client({ connectionString: values["pg-url"] });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
}
const sink = await startSmtpSink();
const config = loadConfig({
  NODE_ENV: "test",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  PUBLIC_URL,
  SMTP_URL: sink.url,
  // Measures register-with-verification through the API.
  REGISTRATION: "open",
  TRUSTED_PROXIES: "127.0.0.1",
  RATE_LIMIT_FORGOT_PASSWORD: "100000/1m",
  RATE_LIMIT_API: "100000/1m",
  AUTO_BAN_TRIPS: "0",
  ...(schema ? { DATABASE_URL: values["pg-url"] } : {}),
});
const gh = await createGatehouse({ config, logger: pino({ level: "silent" }), ...(schema ? { schema } : {}) });

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const out = [];
  let seq = 0;
  for (const { path, body: payload, group, pauseMs } of workerData.order) {
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    seq++;
    const ip = "10." + ((seq >> 16) & 255) + "." + ((seq >> 8) & 255) + "." + (seq & 255);
    const t = performance.now();
    const res = await fetch(workerData.base + path, {
      method: "POST",
      headers: { "content-type": "application/json", origin: workerData.origin, "x-forwarded-for": ip },
      body: JSON.stringify(payload),
    });
    const body = await res.text();
    out.push({ group, ms: performance.now() - t, status: res.status, body });
  }
  parentPort.postMessage(out);
})();
`;

/** Sends the requests one after the other from a worker thread; resolves with their timings. */
function runClient(base: string, order: { path: string; body: unknown; group: string; pauseMs?: number }[]): Promise<{ group: string; ms: number; status: number; body: string }[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, { eval: true, workerData: { base, order, origin: PUBLIC_URL } });
    worker.once("message", (m) => {
      resolve(m as { group: string; ms: number; status: number; body: string }[]);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / (s.length - 1));
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { n: s.length, mean: r(mean), sd: r(sd), min: r(s[0]!), p50: r(q(0.5)), p90: r(q(0.9)), p99: r(q(0.99)), max: r(s.at(-1)!) };
}

try {
  const now = Date.now();
  const known: string[] = [];
  const rows = [];
  for (let i = 0; i < SAMPLES; i++) {
    const name = `reset${String(i).padStart(5, "0")}`;
    known.push(`${name}@example.test`);
    rows.push({ id: randomUUID(), username: name, username_normalized: name, email: `${name}@example.test`, email_normalized: `${name}@example.test`, email_verified: 0, password_hash: HASH, role: "user", blocked: 0, created_at: now, updated_at: now, last_login_at: null });
  }
  for (let i = 0; i < rows.length; i += 500) await gh.database.db.insertInto("users").values(rows.slice(i, i + 500)).execute();
  const unknown = Array.from({ length: SAMPLES }, (_, i) => `nobody${String(i).padStart(5, "0")}@example.test`);

  await gh.app.listen({ port: 0, host: "127.0.0.1" });
  const base = `http://127.0.0.1:${(gh.app.server.address() as AddressInfo).port}`;

  // Warm-up (JIT, connection pool, prepared statements), not measured.
  const forgot = (e: string, group: string) => ({ path: "/api/auth/forgot-password", body: { email: e }, group });
  const order = [
    ...Array.from({ length: 50 }, (_, i) => forgot(`warmup${i}@example.test`, "warmup")),
    ...shuffle([...known.map((e) => forgot(e, "known")), ...unknown.map((e) => forgot(e, "unknown"))]),
  ];
  // The client runs in its own thread: in the server's thread, the work done after an
  // answer (the lookup, the outbox write, the SMTP send) would delay reading that answer.
  const results = await runClient(base, order);
  const times = { known: [] as number[], unknown: [] as number[] };
  const bodies = new Set<string>();
  for (const r of results) {
    if (r.status !== 202) throw new Error(`unexpected status ${r.status}`);
    bodies.add(r.body);
    if (r.group === "known") times.known.push(r.ms);
    if (r.group === "unknown") times.unknown.push(r.ms);
  }
  await gh.mail.flush();
  const mailsDelivered = sink.mails.length;

  // Registration while verification is required: a new address vs an already registered one.
  const admin = rows[0]!.id;
  await gh.settings.update(admin, { emailVerificationRequired: true }, { ip: "127.0.0.1", userAgent: "bench" });
  // Spaced out so the hashes done after each answer never saturate the hashing pool (which answers 503 to both alike).
  const register = (i: number, email: string, group: string) => ({ path: "/api/auth/register", body: { username: `reg${group}${i}`, password: "bench-orchid-lantern-93", email }, group, pauseMs: 250 });
  const regOrder = [
    ...Array.from({ length: 5 }, (_, i) => register(i, `warm${i}@example.test`, "warmup")),
    ...shuffle([
      ...Array.from({ length: REGISTER_SAMPLES }, (_, i) => register(i, `fresh${i}@example.test`, "new")),
      ...Array.from({ length: REGISTER_SAMPLES }, (_, i) => register(i, known[i % known.length]!, "existing")),
    ]),
  ];
  const regTimes = { new: [] as number[], existing: [] as number[] };
  const regBodies = new Set<string>();
  for (const r of await runClient(base, regOrder)) {
    if (r.status !== 202) throw new Error(`unexpected status ${r.status}: ${r.body}`);
    regBodies.add(r.body);
    if (r.group === "new") regTimes.new.push(r.ms);
    if (r.group === "existing") regTimes.existing.push(r.ms);
  }
  await gh.mail.flush();

  const compare = (a: number[], b: number[]) => {
    const x = stats(a);
    const y = stats(b);
    const diff = x.mean - y.mean;
    const se = Math.sqrt(x.sd ** 2 / x.n + y.sd ** 2 / y.n);
    return { x, y, medianDifferenceMs: Math.round((x.p50 - y.p50) * 1000) / 1000, meanDifferenceMs: Math.round(diff * 1000) / 1000, welchT: Math.round((diff / se) * 100) / 100 };
  };
  const f = compare(times.known, times.unknown);
  const g = compare(regTimes.existing, regTimes.new);
  const result = {
    backend: schema ? "postgres" : "sqlite",
    forgotPassword: {
      samplesPerGroup: SAMPLES,
      distinctBodies: bodies.size,
      mailsDelivered,
      knownMs: f.x,
      unknownMs: f.y,
      medianDifferenceMs: f.medianDifferenceMs,
      meanDifferenceMs: f.meanDifferenceMs,
      welchT: f.welchT,
    },
    registerWithVerification: {
      samplesPerGroup: REGISTER_SAMPLES,
      distinctBodies: regBodies.size,
      existingAddressMs: g.x,
      newAddressMs: g.y,
      medianDifferenceMs: g.medianDifferenceMs,
      meanDifferenceMs: g.meanDifferenceMs,
      welchT: g.welchT,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await gh.close();
  await sink.stop();
  rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const c = new pg.Client({ connectionString: values["pg-url"] });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}
