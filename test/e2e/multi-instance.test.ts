import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor/doctor-check-list.js";
import { backendNames } from "../helpers/backends.js";
import { startCluster, type Cluster } from "../helpers/multi-instance/cluster.js";
import { addressPool, clientOf, type Answer } from "../helpers/multi-instance/client.js";
import type { GatehouseProcess } from "../helpers/multi-instance/gatehouse-process.js";
import { appClients, startSentinelGroup, type SentinelGroup } from "../helpers/multi-instance/redis-processes.js";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";

/**
 * A revocation on one instance reaches the others over the Redis revocation
 * bus (src/storage/redis/redis-revocation-bus.ts): well within a second, far
 * below the 5 s re-read of a cached lookup (the session service's
 * `cacheTtlMs`) that bounds it without the bus (so this fails
 * without it). The issue's 100 ms p99 is measured by
 * bench/cross-instance-revocation.ts, not asserted here: a timed test on a
 * loaded 2-core CI host would flake.
 */
const REVOCATION_BOUND_MS = 1_000;

const PASSWORD = "harbour-lantern-quartz-42";
const WRONG = "not-the-password-at-all";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const distinct = (answers: Answer[]) => new Set(answers.map((a) => a.upstream));

const runs = backendNames().includes("postgres") && proxySuiteRuns("nginx");

describe.skipIf(!runs)("multi-instance: three Gatehouse processes on one PostgreSQL schema and one Redis, behind nginx round robin", () => {
  let cluster: Cluster;
  let gh: GatehouseProcess[];
  let lb: string;
  let c: ReturnType<typeof clientOf>;
  let user = 0;
  const uname = (what: string) => `${what}${++user}${Date.now().toString(36)}`;

  beforeAll(async () => {
    cluster = await startCluster(3, {
      // The revocation probe polls /api/auth/me every 20 ms on four addresses; the per-user API budget
      // (120/min) is not what this suite measures. Login, registration and regulation keep their defaults.
      RATE_LIMIT_API: "100000/1m",
    });
    gh = cluster.instances;
    lb = cluster.balancer.url;
    c = clientOf(cluster.env.PUBLIC_URL!);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail" && cluster) console.error(cluster.logs());
  });

  /** Registers (through nginx) and signs in; returns the session cookie. */
  async function account(ip: () => string, base = lb): Promise<{ username: string; cookie: string }> {
    const username = uname("u");
    expect((await c.register(lb, username, PASSWORD, ip())).status).toBe(201);
    const login = await c.login(base, username, PASSWORD, ip());
    expect(login.status).toBe(200);
    return { username, cookie: login.cookie! };
  }

  it("a session made through the balancer works on every instance; logout on one is refused by all within the re-read bound", async () => {
    const ip = addressPool(1);
    const { cookie } = await account(ip);
    // Round robin: six requests reach all three instances.
    const viaLb = await Promise.all(Array.from({ length: 6 }, () => c.me(lb, cookie, ip())));
    expect(viaLb.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(distinct(viaLb).size).toBe(3);
    // And each instance directly (each now holds the session in its cache).
    for (const g of gh) expect((await c.me(g.url, cookie, ip())).status, g.name).toBe(200);

    const logout = await c.logout(gh[0]!.url, cookie, ip());
    expect(logout.status).toBe(204);
    const loggedOutAt = performance.now();
    // Each target is polled every 20 ms until it refuses; the time to refusal is measured.
    const targets = [...gh.map((g) => ({ name: g.name, url: g.url })), { name: "nginx", url: lb }];
    const refusedAfter = await Promise.all(
      targets.map(async (t) => {
        for (;;) {
          const res = await c.me(t.url, cookie, ip());
          const elapsed = performance.now() - loggedOutAt;
          if (res.status === 401) return elapsed;
          expect(res.status, t.name).toBe(200);
          if (elapsed > REVOCATION_BOUND_MS) return elapsed;
          await sleep(20);
        }
      }),
    );
    console.info(`revocation reached: ${targets.map((t, i) => `${t.name} ${Math.round(refusedAfter[i]!)} ms`).join(", ")} (bound ${REVOCATION_BOUND_MS} ms)`);
    for (const [i, ms] of refusedAfter.entries()) expect(ms, targets[i]!.name).toBeLessThanOrEqual(REVOCATION_BOUND_MS);
    // The instance that ended it refused at once.
    expect(refusedAfter[0]).toBeLessThan(1_000);
    // And it stays refused everywhere.
    for (const t of targets) expect((await c.me(t.url, cookie, ip())).status, t.name).toBe(401);
  });

  it("the per-IP login limit is shared: 10 failures spread over three instances, the 11th is 429 on every one (as on a single instance)", async () => {
    const ip = addressPool(2);
    const { username } = await account(ip);
    const attacker = "10.2.200.1";
    // A different (unknown) account each time: only the address's counters are at stake, not one account's delay.
    const failures: Answer[] = [];
    for (let i = 0; i < 10; i++) failures.push(await c.login(lb, uname("ghost"), WRONG, attacker));
    expect(failures.map((a) => a.status)).toEqual(Array(10).fill(401));
    expect(distinct(failures).size).toBe(3);
    for (const g of gh) {
      const res = await c.login(g.url, username, PASSWORD, attacker);
      expect([res.status, res.code], g.name).toEqual([429, "rate_limited"]);
    }
    // The same count against one instance alone: the 11th, too.
    const single = "10.2.200.2";
    for (let i = 0; i < 10; i++) expect((await c.login(gh[1]!.url, uname("ghost"), WRONG, single)).status).toBe(401);
    expect((await c.login(gh[1]!.url, username, PASSWORD, single)).status).toBe(429);
  });

  it("brute-force regulation is shared: six failures on one account from six addresses over three instances delay its next sign-in everywhere", async () => {
    const ip = addressPool(3);
    const { username } = await account(ip);
    const failures: Answer[] = [];
    for (let i = 0; i < 6; i++) failures.push(await c.login(lb, username, WRONG, ip()));
    expect(failures.map((a) => a.status)).toEqual(Array(6).fill(401));
    expect(distinct(failures).size).toBe(3);
    // The account now waits 2 s before its next attempt: on every instance, even with the right password from a new address.
    for (const g of gh) {
      const res = await c.login(g.url, username, PASSWORD, ip());
      expect([res.status, res.code], g.name).toEqual([429, "rate_limited"]);
    }
  });

  it("attack: an IP hammering one instance is banned there, and the ban is honoured by every instance and the balancer", async () => {
    const hammer = "10.4.0.9";
    // 10 failures, then 5 refused attempts (limit trips): AUTO_BAN_TRIPS=5 bans the address.
    for (let i = 0; i < 15; i++) await c.login(gh[0]!.url, uname("ghost"), WRONG, hammer);
    for (const base of [...gh.map((g) => g.url), lb]) {
      expect((await c.get(base, "/healthz", hammer)).status, base).toBe(429);
      expect((await c.get(base, "/healthz", "10.4.0.10")).status, base).toBe(200);
    }
  });

  it("kill -9 of one instance mid-traffic: no committed registration is lost, no session is lost", async () => {
    const ip = addressPool(5);
    const victim = gh[2]!;
    // Sessions from before: one signed in through nginx, one on the instance that will die.
    const before = [await account(ip), await account(ip, victim.url)];
    const registrations: { username: string; status: number }[] = [];
    const sessionChecks: Answer[] = [];
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const username = uname(`k${w}x`);
        const res = await c.register(lb, username, PASSWORD, ip());
        registrations.push({ username, status: res.status });
        sessionChecks.push(await c.me(lb, before[registrations.length % 2]!.cookie, ip()));
      }
    };
    const workers = [0, 1, 2].map(worker);
    let killedAt: number;
    try {
      while (registrations.length < 9) await sleep(10);
      await victim.kill9();
      killedAt = registrations.length;
      while (registrations.length < killedAt + 15) await sleep(10);
    } finally {
      stop = true;
      await Promise.all(workers);
    }

    const committed = registrations.filter((r) => r.status === 201);
    const other = registrations.filter((r) => r.status !== 201);
    console.info(`kill -9 after ${killedAt} registrations: ${committed.length} of ${registrations.length} answered 201, others ${JSON.stringify(other.map((r) => r.status))}`);
    // Only registrations in flight on the killed instance may fail: nginx does not resend a POST it already sent (502).
    expect(other.length).toBeLessThanOrEqual(3);
    for (const r of other) expect(r.status).toBe(502);
    // Reads are retried on a live instance: no session check failed, during or after the kill.
    expect(sessionChecks.filter((a) => a.status !== 200)).toEqual([]);
    // Every committed account signs in afterwards, through nginx.
    for (const r of committed) expect((await c.login(lb, r.username, PASSWORD, ip())).status, r.username).toBe(200);
    // The sessions from before work on the survivors directly and through nginx.
    for (const s of before) {
      for (const base of [gh[0]!.url, gh[1]!.url, lb]) expect((await c.me(base, s.cookie, ip())).status, base).toBe(200);
    }
  });

  it("Redis restarted mid-traffic: requests fail closed (503 unavailable) while it is down, and succeed again once it is back, with no Gatehouse restart", async () => {
    const ip = addressPool(6);
    const live = gh.filter((g) => g.child.exitCode === null && g.child.signalCode === null);
    const { username, cookie } = await account(ip);
    const seen: (Answer & { startedAt: number })[] = [];
    let stop = false;
    let recoveredAt = Infinity;
    const traffic = (async () => {
      while (!stop) {
        const startedAt = performance.now();
        seen.push({ ...(await c.me(lb, cookie, ip())), startedAt });
        await sleep(20);
      }
    })();
    try {
      await sleep(200);
      await cluster.redis.stop();
      const downAt = performance.now();
      // Docs (operations.md, security-model.md LOG-06): with Redis down, bans cannot be checked, so every route
      // that grants something answers 503 `unavailable`; /healthz stays 200 and /readyz answers 503.
      const login = await c.login(lb, username, PASSWORD, ip());
      expect([login.status, login.code]).toEqual([503, "unavailable"]);
      for (const g of live) {
        const me = await c.me(g.url, cookie, ip());
        expect([me.status, me.code], g.name).toEqual([503, "unavailable"]);
        expect((await c.get(g.url, "/healthz", ip())).status, g.name).toBe(200);
        expect((await c.get(g.url, "/readyz", ip())).status, g.name).toBe(503);
      }
      await sleep(500);
      await cluster.redis.start();
      const upAt = performance.now();
      // Every instance recovers by itself (the client reconnects at most 2 s apart).
      for (const g of live) {
        const until = performance.now() + 10_000;
        for (;;) {
          const me = await c.me(g.url, cookie, ip());
          if (me.status === 200) break;
          expect([me.status, me.code], g.name).toEqual([503, "unavailable"]);
          expect(performance.now(), `${g.name} did not recover within 10 s`).toBeLessThan(until);
          await sleep(50);
        }
        expect((await c.get(g.url, "/readyz", ip())).status, g.name).toBe(200);
      }
      recoveredAt = performance.now();
      console.info(`Redis down ${Math.round(upAt - downAt)} ms; every instance answered again ${Math.round(recoveredAt - upAt)} ms after it was back`);
      // Some traffic through the balancer after every instance is back.
      await sleep(300);
    } finally {
      // Redis is back (a failure above must not leave it down for the next test), the traffic stopped.
      await cluster.redis.start().catch(() => undefined);
      stop = true;
      await traffic;
    }
    expect((await c.login(lb, username, PASSWORD, ip())).status).toBe(200);
    // During the whole episode: 200 or 503 unavailable, never anything else (no 401, no 500, no 502).
    expect(seen.filter((a) => !(a.status === 200 || (a.status === 503 && a.code === "unavailable")))).toEqual([]);
    expect(seen.some((a) => a.status === 503)).toBe(true);
    // Once every instance had recovered, every request through the balancer succeeds (one still in flight from
    // before may have been answered 503: it is not counted).
    const after = seen.filter((a) => a.startedAt > recoveredAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((a) => a.status !== 200)).toEqual([]);
  });

  describe("through Redis Sentinel (REDIS_URL=redis-sentinel://…)", () => {
    let group: SentinelGroup;
    let pair: GatehouseProcess[];

    beforeAll(async () => {
      group = await startSentinelGroup();
      pair = await Promise.all([cluster.startExtra("gh-sentinel-1", { REDIS_URL: group.url }), cluster.startExtra("gh-sentinel-2", { REDIS_URL: group.url })]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all((pair ?? []).map((g) => g.stop()));
      await group?.stop();
    }, 30_000);

    it("rate limits keep working across a SENTINEL FAILOVER: both instances move to the new primary, and failures counted before it still count after it", async () => {
      const ip = addressPool(7);
      const { username } = await account(ip);
      const attacker = "10.7.200.1";
      // Retries only while the client moves to the new primary (503 unavailable, fail closed).
      const attempt = async (g: GatehouseProcess, name: string, password: string): Promise<Answer> => {
        const until = performance.now() + 10_000;
        for (;;) {
          const res = await c.login(g.url, name, password, attacker);
          if (!(res.status === 503 && res.code === "unavailable") || performance.now() > until) return res;
          await sleep(50);
        }
      };
      // Unknown accounts: the address's counters are what must survive the failover.
      for (let i = 0; i < 6; i++) expect((await attempt(pair[i % 2]!, uname("ghost"), WRONG)).status).toBe(401);
      expect(await group.primaryPort()).toBe(group.primary.port);
      expect(await appClients(group.primary)).toBeGreaterThanOrEqual(2);
      // Replication is asynchronous: what the replica has not received when it is promoted is lost (documented).
      // The suite waits until it has everything, to test the failover rather than that race.
      const old = group.primary.client();
      try {
        expect(await old.call("WAIT", "1", "2000")).toBe(1);
      } finally {
        old.disconnect();
      }

      const started = performance.now();
      const { to } = await group.failover();
      expect(to).toBe(group.replica.port);
      const switched = performance.now() - started;
      // Both instances leave the old primary by themselves (the sentinels announce the switch) and reconnect to the new one.
      const promoted = group.replica;
      for (;;) {
        if ((await appClients(group.primary)) === 0 && (await appClients(promoted)) >= 2) break;
        expect(performance.now() - started, "the instances did not move to the new primary within 10 s").toBeLessThan(10_000);
        await sleep(50);
      }
      const moved = performance.now() - started;
      for (let i = 0; i < 4; i++) expect((await attempt(pair[i % 2]!, uname("ghost"), WRONG)).status).toBe(401);
      console.info(`failover: sentinels named the new primary after ${Math.round(switched)} ms; both instances were connected to it ${Math.round(moved)} ms after the failover started`);
      // The 11th failure in the window, on either instance: refused, because the counters moved with the data.
      for (const g of pair) {
        const res = await attempt(g, username, PASSWORD);
        expect([res.status, res.code], g.name).toEqual([429, "rate_limited"]);
      }
      // Gatehouse writes to the new primary (which no longer replicates from the old one): a sign-in from a
      // new address adds its rate-limit window there.
      const client = promoted.client();
      try {
        const before = await client.dbsize();
        expect((await c.login(pair[1]!.url, username, PASSWORD, ip())).status).toBe(200);
        expect(await client.dbsize()).toBeGreaterThan(before);
      } finally {
        client.disconnect();
      }
    });

    it("gatehouse doctor reaches the current primary through the sentinels and checks it like a plain Redis", async () => {
      const dir = mkdtempSync(join(tmpdir(), "gatehouse-doctor-sentinel-"));
      try {
        const findings = await runDoctor({ GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: cluster.env.SECRET_KEY!, REDIS_URL: group.url }, dir);
        const about = findings.filter((f) => /redis/i.test(f.message));
        expect(about).toEqual([expect.objectContaining({ level: "ok", message: `Redis (${group.url}) is reachable, maxmemory-policy noeviction` })]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
