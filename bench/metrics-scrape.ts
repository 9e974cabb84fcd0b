// npx tsx bench/metrics-scrape.ts [--requests 20000] [--scrapes 200] [--out file]
// The cost of Prometheus metrics (METRICS=on), measured in one run on two
// Gatehouse instances in this process (SQLite, Fastify's inject, no sockets):
// - a scrape: `GET /metrics` with its token after some traffic (sign-ins,
//   failed sign-ins, requests to many routes and unknown paths), timed and
//   its CPU (user + system, this process) per scrape; the text's size and
//   series count;
// - the request overhead: a signed-in `GET /api/auth/me` on METRICS=on
//   against METRICS=off, interleaved in rounds so both see the same machine
//   state; the ratio of the medians (and of the p99s).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startHarness, type Harness } from "../test/helpers/harness.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "20000" }, scrapes: { type: "string", default: "200" }, out: { type: "string" } } });
const requests = Math.max(1000, Number(values.requests));
const scrapes = Math.max(20, Number(values.scrapes));
const TOKEN = "bench-metrics-token-0123456789abcdef";

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const now = () => Number(process.hrtime.bigint()) / 1e6;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Sign-ins, failures and requests to many routes; returns the session of the last sign-in (older ones fall to the per-user cap). */
async function traffic(h: Harness, name: string): Promise<string> {
  let cookie = "";
  // Alternating, so a right password keeps resetting the account's failure count (no brute-force delay).
  for (let i = 0; i < 50; i++) {
    await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: "not-the-password" } });
    cookie = (await h.login(name)).cookie;
  }
  for (let i = 0; i < 500; i++) {
    await h.request({ method: "GET", url: "/api/auth/me", cookie });
    await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    await h.request({ method: "GET", url: `/no-such-page-${i}` });
    await h.request({ method: "GET", url: "/healthz" });
  }
  return cookie;
}

const on = await startHarness("sqlite", { METRICS: "on", METRICS_TOKEN: TOKEN, LOG_LEVEL: "warn" });
const off = await startHarness("sqlite", { LOG_LEVEL: "warn" });
try {
  const a = await on.account("user", "benchon");
  const b = await off.account("user", "benchoff");
  const cookieOn = await traffic(on, a.name);
  const cookieOff = await traffic(off, b.name);

  // Scrape cost.
  const scrape = () => on.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
  for (let i = 0; i < 20; i++) await scrape();
  const wall: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  let series = 0;
  for (let i = 0; i < scrapes; i++) {
    const c0 = cpuMs();
    const t0 = now();
    const res = await scrape();
    wall.push(now() - t0);
    cpu.push(cpuMs() - c0);
    if (res.statusCode !== 200) throw new Error(`scrape answered ${res.statusCode}`);
    bytes = res.body.length;
    series = res.body.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  }

  // Request overhead: rounds of 500 on each, alternating which goes first.
  const me = { on: [] as number[], off: [] as number[] };
  const round = async (h: Harness, cookie: string, into: number[]) => {
    for (let i = 0; i < 500; i++) {
      const t0 = now();
      const res = await h.request({ method: "GET", url: "/api/auth/me", cookie });
      into.push(now() - t0);
      if (res.statusCode !== 200) throw new Error(`me answered ${res.statusCode}`);
    }
  };
  for (let r = 0; r < 2; r++) {
    await round(on, cookieOn, []);
    await round(off, cookieOff, []);
  }
  for (let r = 0; r < requests / 500; r++) {
    if (r % 2 === 0) {
      await round(on, cookieOn, me.on);
      await round(off, cookieOff, me.off);
    } else {
      await round(off, cookieOff, me.off);
      await round(on, cookieOn, me.on);
    }
  }
  const f = (x: number) => x.toFixed(3);
  const lines = [
    `# Metrics cost (${new Date().toISOString()})`,
    "",
    `Node ${process.version}, ${(await import("node:os")).cpus().length} CPUs; SQLite; Fastify inject; ${scrapes} scrapes, ${me.on.length} + ${me.off.length} requests.`,
    "",
    "| Scrape of `/metrics` | median | p90 | p99 |",
    "|---|---|---|---|",
    `| wall time (ms) | ${f(quantile(wall, 0.5))} | ${f(quantile(wall, 0.9))} | ${f(quantile(wall, 0.99))} |`,
    `| CPU, user + system (ms) | ${f(quantile(cpu, 0.5))} | ${f(quantile(cpu, 0.9))} | ${f(quantile(cpu, 0.99))} |`,
    "",
    `Exposition text: ${bytes} bytes, ${series} samples.`,
    "",
    "| `GET /api/auth/me` (signed in) | median (ms) | p99 (ms) |",
    "|---|---|---|",
    `| METRICS=off | ${f(quantile(me.off, 0.5))} | ${f(quantile(me.off, 0.99))} |`,
    `| METRICS=on | ${f(quantile(me.on, 0.5))} | ${f(quantile(me.on, 0.99))} |`,
    `| on / off | ${(quantile(me.on, 0.5) / quantile(me.off, 0.5)).toFixed(3)} | ${(quantile(me.on, 0.99) / quantile(me.off, 0.99)).toFixed(3)} |`,
    "",
  ];
  const text = lines.join("\n");
  process.stdout.write(`${text}\n`);
  if (values.out) writeFileSync(values.out, text);
} finally {
  await on.close();
  await off.close();
}
