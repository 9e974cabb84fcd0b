import { availableParallelism } from "node:os";
import { defaultHashingCapacity } from "../../src/core/passwords/bounded-hasher.js";
import { measureLoad } from "../lib/load.js";
import { currentPlacement, runScript, withServer } from "../lib/servers.js";
import { BENCH_ORIGIN, type Scenario } from "./scenario.js";

/** Cores the server under test sees: one when the run pins it (Node reads its affinity), else the machine's. */
export function serverCores(): number {
  return currentPlacement().server !== null ? 1 : availableParallelism();
}

/** Hashes Gatehouse runs at once on the server's cores (HASH_CONCURRENCY, else its default). */
export function hashingSlots(): number {
  if (process.env.HASH_CONCURRENCY) return Number(process.env.HASH_CONCURRENCY);
  return defaultHashingCapacity(Number(process.env.UV_THREADPOOL_SIZE ?? 4) || 4, serverCores()).maxInFlight;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Login throughput with correct passwords (20 users, round robin) vs raw
 * Argon2id verify with the same parameters, in its own Node process (on the
 * server core when the run pins, as Gatehouse is), running
 * as many verifies at once as Gatehouse's hashing gate allows. Login uses 4
 * connections per hashing slot: enough to keep the slots busy, within the
 * gate's queue, so every answer is a real sign-in (not a 503 shed).
 */
export const login: Scenario = {
  id: "login",
  targets: [{ label: "login vs raw Argon2id verify", row: "login", of: "argon2", metric: "rps", op: ">=", value: 0.9 }],
  run: async (ctx) => {
    const slots = hashingSlots();
    const lines = await runScript("argon2-verify", {
      BENCH_CONCURRENCY: String(slots),
      BENCH_DURATION: String(ctx.dry ? 0.2 : ctx.duration),
      BENCH_ROUNDS: String(ctx.dry ? 1 : ctx.rounds),
      BENCH_WARMUP: String(ctx.dry ? 0 : ctx.warmup),
    }, { role: "server" });
    const rounds = lines.filter((l) => l.startsWith("ROUND ")).map((l) => JSON.parse(l.slice(6)) as { perSecond: number; p50: number; p99: number });
    const rss = Number(lines.find((l) => l.startsWith("RSS "))?.slice(4) ?? 0);
    if (rounds.length === 0) throw new Error("argon2-verify printed no rounds");
    const raw = {
      id: "argon2",
      title: `raw @node-rs/argon2 verify (m=19456 KiB, t=2, p=1), ${slots} at once, own process`,
      rps: ctx.dry ? 0 : Math.round(median(rounds.map((r) => r.perSecond))),
      p50: ctx.dry ? 0 : median(rounds.map((r) => r.p50)),
      p99: ctx.dry ? 0 : median(rounds.map((r) => r.p99)),
      rssMb: Math.round(rss / 1048576),
    };
    const connections = slots * 4;
    const row = await withServer("gatehouse", { BENCH_LOGIN_USERS: ctx.dry ? "2" : "20", RATE_LIMIT_LOGIN: "999999/1s" }, async (s) => {
      const users = s.ready.loginUsers!;
      const m = await measureLoad(
        {
          pid: s.child.pid!,
          url: s.url("/api/auth/login"),
          method: "POST",
          headers: { "content-type": "application/json", origin: BENCH_ORIGIN },
          bodies: users.map((username) => JSON.stringify({ username, password: s.ready.password })),
          expect: 200,
          connections,
        },
        ctx,
        "login",
      );
      return { ...m, rssMb: s.rssMb() };
    });
    return [
      raw,
      {
        id: "login",
        title: `Gatehouse POST /api/auth/login, correct passwords, ${connections} conns`,
        ...row,
        baseline: "argon2",
        note: `hashing slots: ${slots} (the server sees ${serverCores()} core${serverCores() === 1 ? "" : "s"}; ${serverCores() === 1 ? "hashing yields to the event loop (nice 19)" : "one core is kept for the event loop"})`,
      },
    ];
  },
};
