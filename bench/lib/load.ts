import { readFileSync } from "node:fs";
import autocannon from "autocannon";

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
  /** A body per request (round robin, JSON). */
  bodies?: () => string;
  expect: number;
  connections?: number;
  /** Seconds per round (default: the run's duration). */
  duration?: number;
  /** The server's pid: its CPU time per answer is reported (robust on a shared machine). */
  pid?: number;
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
    ...(spec.bodies ? { body: spec.bodies() } : {}),
  });
  const text = await res.text();
  if (res.status !== spec.expect) {
    throw new Error(`${what}: ${spec.method ?? "GET"} ${new URL(spec.url).pathname} answered ${res.status}, expected ${spec.expect}: ${text.slice(0, 200)}`);
  }
}

/** One autocannon run (in this process; the server under test is another process). */
export function cannon(spec: LoadSpec, ctx: BenchContext, seconds: number): Promise<autocannon.Result> {
  let i = 0;
  const rotate = Boolean(spec.cookies && spec.cookies.length > 1) || Boolean(spec.bodies);
  const baseHeaders: Record<string, string> = { ...spec.headers };
  if (spec.cookies && spec.cookies.length === 1) baseHeaders.cookie = spec.cookies[0]!;
  return autocannon({
    url: spec.url,
    connections: spec.connections ?? ctx.connections,
    duration: seconds,
    method: spec.method ?? "GET",
    headers: baseHeaders,
    ...(rotate
      ? {
          requests: [
            {
              method: spec.method ?? "GET",
              setupRequest: (req: autocannon.Request) => {
                const headers: Record<string, string> = { ...(req.headers as Record<string, string>) };
                if (spec.cookies && spec.cookies.length > 1) headers.cookie = spec.cookies[i++ % spec.cookies.length]!;
                return { ...req, headers, ...(spec.bodies ? { body: spec.bodies() } : {}) };
              },
            },
          ],
        }
      : {}),
  });
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
  const seconds = spec.duration ?? ctx.duration;
  for (let round = 0; round < ctx.rounds; round++) {
    // Paired: the baseline runs the round just before, so both see the same machine.
    const base = pair ? await timedRound(pair, ctx, seconds) : null;
    const mine = await timedRound(spec, ctx, seconds);
    results.push(mine.result);
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
    ...(pair && ratios.length > 0 ? { pairedRatio: median(ratios), pairedCpu: cpuRatios.length > 0 ? median(cpuRatios) : null } : {}),
  };
}

async function timedRound(spec: LoadSpec, ctx: BenchContext, seconds: number): Promise<{ result: autocannon.Result; cpuUs: number | null }> {
  const before = spec.pid ? cpuMsOf(spec.pid) : 0;
  const result = await cannon(spec, ctx, seconds);
  const cpuUs = spec.pid ? ((cpuMsOf(spec.pid) - before) * 1000) / Math.max(1, result.requests.total) : null;
  return { result, cpuUs };
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
