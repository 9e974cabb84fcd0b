// Baseline for login: raw @node-rs/argon2 verify with Gatehouse's parameters
// (the docs/security-requirements.md#product-defaults row) and a fixed concurrency, in its own Node process. No
// HTTP: it prints one JSON line per round with verifies per second.
//   BENCH_CONCURRENCY (default 1), BENCH_DURATION seconds per round, BENCH_ROUNDS, BENCH_WARMUP seconds.
import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { defaultArgon2Params } from "../../src/core/passwords/argon2-hasher.js";

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 1);
const duration = Number(process.env.BENCH_DURATION ?? 5) * 1000;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const warmup = Number(process.env.BENCH_WARMUP ?? 1) * 1000;
const password = "bench-orchid-lantern-93";
const phc = await hash(password, { algorithm: 2 as Algorithm, outputLen: 32, ...defaultArgon2Params });

async function round(ms: number): Promise<{ perSecond: number; p50: number; p99: number }> {
  const end = performance.now() + ms;
  const latencies: number[] = [];
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      if (!(await verify(phc, password))) throw new Error("verify failed");
      latencies.push(performance.now() - t);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

if (warmup > 0) await round(warmup);
for (let i = 0; i < rounds; i++) process.stdout.write(`ROUND ${JSON.stringify(await round(duration))}\n`);
process.stdout.write(`RSS ${process.memoryUsage().rss}\n`);
