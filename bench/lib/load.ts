import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type autocannon from "autocannon";
import type { LoadJob, LoadOutcome } from "./load-process.js";
import { OUT, ROOT, spawnOn } from "./servers.js";

/** Run-wide settings every scenario reads. */
export interface BenchContext {
  duration: number;
  connections: number;
  rounds: number;
  warmup: number;
  /** Start each server and send one request per load, no timing. */
  dry: boolean;
  quick: boolean;
  postgres: string;
  /** Session-table sizes of the footprint scenario. */
  sessionSizes: number[];
  /** A bare Fastify server kept running through the run: loads paired with it alternate rounds with it. */
  pairBare?: LoadSpec;
  log(message: string): void;
}

/** One HTTP load: where, what, and which status counts as a correct answer. */
export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Cookies to rotate through, one per request (round robin). */
  cookies?: string[];
  /** Request bodies, one per request (round robin). */
  bodies?: string[];
  expect: number;
  connections?: number;
  /** Seconds per round (default: the run's duration). */
  duration?: number;
  /** The server's pid: its CPU time per answer is reported (robust on a shared machine). */
  pid?: number;
  /** A two-step sign-in (password, then a TOTP code) per cycle: see `LoadJob.totp`. */
  totp?: { verifyUrl: string; secrets: string[] };
}

/** Median figures over the rounds of one load. */
export interface Measured {
  /** Correct answers (status `expect`) per second, median over rounds. */
  rps: number;
  p50: number;
  p99: number;
  /** Each round's correct answers per second. */
  runs: number[];
  /** Answers with another status, summed over the rounds. */
  unexpected: Record<string, number>;
  /** Server CPU time (user + system, all threads) per answer, µs, median over rounds; null without a pid. */
  cpuUs: number | null;
  /** With a paired baseline: the median over rounds of this round's req/s ÷ the baseline round's just before it. */
  pairedRatio?: number;
  /** The same from CPU time per answer (baseline µs ÷ this row's µs). */
  pairedCpu?: number | null;
  /** The load generator's own CPU use during this row's rounds, % of one core (median): near 100, the load process, not the server, set the pace. */
  loadCpuPct?: number;
}

/** CPU time (user + system, all threads) a process has used, in ms. */
export function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}
const TICKS = 100;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Sends the one request of a dry run and checks its status. */
export async function checkOnce(spec: LoadSpec, what: string): Promise<void> {
  const headers: Record<string, string> = { ...spec.headers };
  if (spec.cookies?.[0]) headers.cookie = spec.cookies[0];
  const res = await fetch(spec.url, {
    method: spec.method ?? "GET",
    headers,
    redirect: "manual",
    ...(spec.bodies?.[0] !== undefined ? { body: spec.bodies[0] } : {}),
  });
  const text = await res.text();
  if (res.status !== spec.expect) {
    throw new Error(`${what}: ${spec.method ?? "GET"} ${new URL(spec.url).pathname} answered ${res.status}, expected ${spec.expect}: ${text.slice(0, 200)}`);
  }
}

interface LoadProcess {
  child: ChildProcess;
  /** Readers of the answers still to come, in the order the jobs were sent. */
  waiting: ((line: string) => void)[];
  /** The last job sent: the next one waits for it (one load at a time). */
  queue: Promise<unknown>;
}
let loader: LoadProcess | null = null;

/** The load process (bench/lib/load-process.ts), started on first use on the load core. */
function loadProcess(): LoadProcess {
  if (loader && loader.child.exitCode === null) return loader;
  const child = spawnOn("load", [process.execPath, join(OUT, "bench", "lib", "load-process.js")], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  const l: LoadProcess = { child, waiting: [], queue: Promise.resolve() };
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("RESULT ")) l.waiting.shift()?.(line.slice(7));
  });
  child.on("exit", (code) => {
    for (const w of l.waiting.splice(0)) w(`ERROR the load process exited with ${code}: ${err.trim()}`);
  });
  loader = l;
  return l;
}

/**
 * One load run by the load process (its own process, on the load core when
 * the run pins; the server under test is another process on the server core).
 * `amount`: send exactly that many requests instead of running for `seconds`.
 */
export function cannon(spec: LoadSpec, ctx: BenchContext, seconds: number, amount?: number): Promise<LoadOutcome> {
  const job: LoadJob = {
    url: spec.url,
    method: spec.method ?? "GET",
    headers: { ...spec.headers },
    cookies: spec.cookies ?? [],
    bodies: spec.bodies ?? [],
    connections: amount !== undefined ? 1 : (spec.connections ?? ctx.connections),
    seconds,
    ...(amount !== undefined ? { amount } : {}),
    ...(spec.totp ? { totp: spec.totp } : {}),
  };
  const l = loadProcess();
  const run = l.queue.then(
    () =>
      new Promise<LoadOutcome>((resolve, reject) => {
        l.waiting.push((line) => (line.startsWith("ERROR ") ? reject(new Error(line.slice(6))) : resolve(JSON.parse(line) as LoadOutcome)));
        l.child.stdin!.write(`${JSON.stringify(job)}\n`);
      }),
  );
  l.queue = run.catch(() => undefined);
  return run;
}

/** Stops the load process (the run's end; it is started again on demand). */
export function stopLoadProcess(): void {
  loader?.child.stdin?.end();
  loader = null;
}

function correctPerSecond(r: autocannon.Result, expect: number): number {
  const ok = r.statusCodeStats?.[String(expect) as keyof typeof r.statusCodeStats]?.count ?? 0;
  return ok / Math.max(0.001, r.duration);
}

/**
 * Warms up, then runs `ctx.rounds` rounds and keeps the medians. Throws when
 * fewer than 99 % of the answers carry the expected status (unless
 * `tolerateOthers`), so a misconfigured scenario cannot report a fast error page.
 * With `pair`, each round of `spec` follows a round of `pair` (a baseline in
 * its own server), and the ratio of each pair of rounds is kept.
 */
export async function measureLoad(spec: LoadSpec, ctx: BenchContext, what: string, tolerateOthers = false, pair?: LoadSpec): Promise<Measured> {
  if (ctx.dry) {
    await checkOnce(spec, what);
    // The same single request through the load process: the timed run's path, checked without timing.
    const once = await cannon(spec, ctx, 0, 1);
    summarize([once.result], spec.expect, `${what} (through the load process)`, tolerateOthers);
    return { rps: 0, p50: 0, p99: 0, runs: [], unexpected: {}, cpuUs: null };
  }
  if (ctx.warmup > 0) {
    if (pair) await cannon(pair, ctx, ctx.warmup);
    await cannon(spec, ctx, ctx.warmup);
  }
  const results: autocannon.Result[] = [];
  const cpu: number[] = [];
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  const loadCpu: number[] = [];
  const seconds = spec.duration ?? ctx.duration;
  for (let round = 0; round < ctx.rounds; round++) {
    // Paired: the baseline runs the round just before, so both see the same machine.
    const base = pair ? await timedRound(pair, ctx, seconds) : null;
    const mine = await timedRound(spec, ctx, seconds);
    results.push(mine.result);
    loadCpu.push(mine.loadCpuPct);
    if (mine.cpuUs !== null) cpu.push(mine.cpuUs);
    if (base) {
      const baseRps = correctPerSecond(base.result, pair!.expect);
      if (baseRps > 0) ratios.push(correctPerSecond(mine.result, spec.expect) / baseRps);
      if (base.cpuUs && mine.cpuUs) cpuRatios.push(base.cpuUs / mine.cpuUs);
    }
  }
  const m = summarize(results, spec.expect, what, tolerateOthers);
  return {
    ...m,
    cpuUs: cpu.length > 0 ? Math.round(median(cpu)) : null,
    loadCpuPct: median(loadCpu),
    ...(pair && ratios.length > 0 ? { pairedRatio: median(ratios), pairedCpu: cpuRatios.length > 0 ? median(cpuRatios) : null } : {}),
  };
}

export async function timedRound(spec: LoadSpec, ctx: BenchContext, seconds: number): Promise<{ result: autocannon.Result; cpuUs: number | null; loadCpuPct: number }> {
  const before = spec.pid ? cpuMsOf(spec.pid) : 0;
  const { result, cpuPct } = await cannon(spec, ctx, seconds);
  const cpuUs = spec.pid ? ((cpuMsOf(spec.pid) - before) * 1000) / Math.max(1, result.requests.total) : null;
  return { result, cpuUs, loadCpuPct: cpuPct };
}

/** Medians of several autocannon results; see {@link measureLoad}. */
export function summarize(results: autocannon.Result[], expect: number, what: string, tolerateOthers = false): Omit<Measured, "cpuUs"> {
  const unexpected: Record<string, number> = {};
  let total = 0;
  let wrong = 0;
  for (const r of results) {
    for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) {
      const count = s.count ?? 0;
      total += count;
      if (Number(code) !== expect) {
        unexpected[code] = (unexpected[code] ?? 0) + count;
        wrong += count;
      }
    }
    if (r.errors > 0) unexpected.errors = (unexpected.errors ?? 0) + r.errors;
  }
  if (total === 0) throw new Error(`${what}: no answers at all`);
  if (!tolerateOthers && wrong > total * 0.01) throw new Error(`${what}: ${wrong} of ${total} answers were not ${expect}: ${JSON.stringify(unexpected)}`);
  const runs = results.map((r) => Math.round(correctPerSecond(r, expect)));
  return {
    rps: median(runs),
    p50: median(results.map((r) => r.latency.p50)),
    p99: median(results.map((r) => r.latency.p99)),
    runs,
    unexpected,
  };
}
