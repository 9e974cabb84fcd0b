import autocannon from "autocannon";
import { cannon, checkOnce, summarize, measureLoad } from "../lib/load.js";
import { runScript, withServer } from "../lib/servers.js";
import type { Row } from "../lib/report.js";
import { BENCH_ORIGIN, UNLIMITED_API, type Scenario } from "./scenario.js";

/**
 * Login flood: a signed-in client's GET /api/auth/me (10 connections) alone,
 * then while `connections` clients send wrong passwords for random usernames
 * from random client IPs (a distributed flood, through a trusted proxy
 * header), so per-IP limits and bans never trigger and every attempt that is
 * admitted costs a full Argon2id verification: this measures load shedding.
 * All other limits are the shipped defaults, except the per-user API limit.
 * The flood runs in its own process: the measured client must not share an
 * event loop with the attacker, or its own timestamps would carry the flood.
 * When the run pins, both load generators share the load core and the server
 * has its core alone; the attacker runs at the lowest priority (nice 19) so
 * the measured client is never kept waiting for the core by the attacker —
 * the attacker still gets every cycle the client leaves, and its rate is in
 * the notes.
 */
export const loginFlood: Scenario = {
  id: "flood",
  targets: [{ label: "signed-in p99 during a login flood vs unloaded", row: "flood-me", of: "quiet-me", metric: "p99", op: "<=", value: 2 }],
  run: (ctx) =>
    withServer("gatehouse", { ...UNLIMITED_API, TRUSTED_PROXIES: "127.0.0.1" }, async (s) => {
      const me = { url: s.url("/api/auth/me"), cookies: [s.ready.cookie!], expect: 200, connections: 10 };
      const flood = {
        url: s.url("/api/auth/login"),
        method: "POST" as const,
        headers: { "content-type": "application/json", origin: BENCH_ORIGIN },
        bodies: [JSON.stringify({ username: "flood1", password: "wrong-password-123" })],
        expect: 401,
      };
      if (ctx.dry) {
        await checkOnce(me, "flood: /me");
        summarize([(await cannon(me, ctx, 0, 1)).result], 200, "flood: /me through the load process");
        await checkOnce({ ...flood, headers: { ...flood.headers, "x-forwarded-for": "10.0.0.1" } }, "flood: wrong password");
        // The attacker's own process runs for a second and reports only refusals.
        const probe = await floodRun(s.url("/api/auth/login"), 2, 1);
        const answered = Object.entries(probe.codes).filter(([, count]) => count > 0);
        if (answered.length === 0 || answered.some(([code]) => code !== "401" && code !== "503")) throw new Error(`flood: unexpected answers ${JSON.stringify(probe.codes)}`);
        const zero = { rps: 0, p50: 0, p99: 0, rssMb: s.rssMb() };
        return [
          { id: "quiet-me", title: "GET /api/auth/me, 10 conns, no flood", ...zero },
          { id: "flood-me", title: "GET /api/auth/me, 10 conns, during a login flood", ...zero, baseline: "quiet-me", compare: "p99" },
        ] satisfies Row[];
      }
      await cannon(me, ctx, ctx.warmup);
      const quiet: autocannon.Result[] = [];
      const quietCpu: number[] = [];
      const loadedCpu: number[] = [];
      const loaded: autocannon.Result[] = [];
      const floods: FloodResult[] = [];
      for (let round = 0; round < ctx.rounds; round++) {
        const q = await cannon(me, ctx, ctx.duration);
        quiet.push(q.result);
        quietCpu.push(q.cpuPct);
        // Each flood request comes from its own address (X-Forwarded-For from the trusted proxy).
        floods.push(
          await Promise.all([
            floodRun(s.url("/api/auth/login"), ctx.connections, ctx.duration + 1.5),
            new Promise((r) => setTimeout(r, 1000)).then(async () => {
              const l = await cannon(me, ctx, ctx.duration);
              loaded.push(l.result);
              loadedCpu.push(l.cpuPct);
            }),
          ]).then(([f]) => f),
        );
      }
      const q = summarize(quiet, 200, "quiet /me");
      const l = summarize(loaded, 200, "/me during the flood");
      const codes: Record<string, number> = {};
      for (const f of floods) for (const [code, count] of Object.entries(f.codes)) codes[code] = (codes[code] ?? 0) + count;
      const perSecond = Math.round(floods.reduce((a, f) => a + f.perSecond, 0) / floods.length);
      return [
        { id: "quiet-me", title: "GET /api/auth/me, 10 conns, no flood", ...q, loadCpuPct: middle(quietCpu), rssMb: s.rssMb() },
        {
          id: "flood-me",
          title: `GET /api/auth/me, 10 conns, during a ${ctx.connections}-conn wrong-password flood`,
          ...l,
          loadCpuPct: middle(loadedCpu),
          rssMb: s.rssMb(),
          baseline: "quiet-me",
          compare: "p99",
          note: `flood: ${perSecond} answers/s (${Object.entries(codes).map(([c, k]) => `${c}: ${k}`).join(", ")})`,
        },
      ] satisfies Row[];
    }),
};

const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** What the flood process reports. */
interface FloodResult {
  perSecond: number;
  codes: Record<string, number>;
}

/** A wrong-password flood from a fresh client IP per request, run by its own process (bench/servers/login-flood.ts). */
async function floodRun(url: string, connections: number, seconds: number): Promise<FloodResult> {
  const lines = await runScript(
    "login-flood",
    { FLOOD_URL: url, FLOOD_CONNECTIONS: String(connections), FLOOD_SECONDS: String(seconds), FLOOD_ORIGIN: BENCH_ORIGIN },
    { role: "load", lowPriority: true },
  );
  const line = lines.find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error("the login flood printed no result");
  return JSON.parse(line.slice(7)) as FloodResult;
}

/** Rejection of a banned IP (the ban fast path, before any parsing) vs bare Fastify. */
export const banned: Scenario = {
  id: "banned",
  needs: ["bare"],
  run: (ctx) =>
    withServer("gatehouse", { BENCH_BAN_IP: "127.0.0.1" }, async (s) => {
      const m = await measureLoad({ pid: s.child.pid!, url: s.url("/api/auth/me"), cookies: [s.ready.cookie!], expect: 429 }, ctx, "banned IP", false, ctx.pairBare);
      return [{ id: "banned", title: "Gatehouse rejecting a banned IP → 429", ...m, rssMb: s.rssMb(), baseline: "bare" }];
    }),
};
