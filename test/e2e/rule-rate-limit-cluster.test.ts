import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { rulesFile } from "../helpers/forward-auth.js";
import { UPSTREAM_HEADER } from "../helpers/multi-instance/balancer.js";
import { startCluster, type Cluster } from "../helpers/multi-instance/cluster.js";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";

const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.example.test
      resources: ["^/api/"]
      policy: bypass
      rate_limit: { per: ip, limit: "20/1m" }
`;

const runs = backendNames().includes("postgres") && proxySuiteRuns("nginx");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The done-when, on real processes: two Gatehouse servers (`node src/main.ts`) on one PostgreSQL
 * schema and one redis-server, behind nginx round robin, asked by forward-auth as Traefik or Caddy would.
 */
describe.skipIf(!runs)("attack: spreading requests across instances: a 20/1m rule holds exactly across two processes on one Redis", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2, { GATEHOUSE_CONFIG: rulesFile(RULES) });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it("40 concurrent forward-auth requests of one client through the balancer: exactly 20 allowed and 20 × 429 with Retry-After, from both instances", async () => {
    // The processes count on the real clock: start well inside a minute so that all 40 land in one window.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 15_000) await sleep(left + 200);
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const res = await fetch(`${cluster.balancer.url}/api/authz/forward-auth`, {
          headers: { "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test", "x-forwarded-uri": "/api/items", "x-forwarded-for": "10.77.0.1" },
          signal: AbortSignal.timeout(20_000),
        });
        await res.text();
        return { status: res.status, upstream: res.headers.get(UPSTREAM_HEADER), retryAfter: res.headers.get("retry-after") };
      }),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200), cluster.logs()).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    for (const a of answers.filter((x) => x.status === 429)) expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(new Set(answers.map((a) => a.upstream)).size).toBe(2);
  });
});
