import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames, PG_URL } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { freePort, waitForOutput } from "../helpers/processes.js";
import { startTcpRelay, type TcpRelay } from "../helpers/tcp-relay.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";
import { APP_HOST, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const UNAVAILABLE = { error: "Service temporarily unavailable; try again later", code: "unavailable" };
const ME = "/api/auth/me";

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
}
const parsed = (h: Harness): LogLine[] => h.logs.lines.map((l) => JSON.parse(l) as LogLine);
/** Log lines at error level or above (50+). */
const errorLines = (h: Harness) => parsed(h).filter((l) => l.level >= 50);

/** A flood of requests of every kind while the database is down: each must be 503 `unavailable` with Retry-After. */
async function flood(h: Harness, cookie: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    // A session the in-process cache does not hold (its lookup is older than the cache age).
    h.clock.advance(6_000);
    for (const res of [
      await h.request({ method: "GET", url: ME, cookie }),
      await h.request({ method: "POST", url: "/api/auth/login", json: { username: `nobody${i}`, password: GOOD_PASSWORD } }),
      await ask(h, { uri: "/home", cookie }),
      await ask(h, { endpoint: "auth-request", uri: "/home", cookie }),
    ]) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toEqual(UNAVAILABLE);
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      expect(res.headers["remote-user"]).toBeUndefined();
    }
  }
}

describe.each(backendNames())("attack: flooding Gatehouse while its database is down gets 503 unavailable, and one log line per outage, not a stack trace per request (%s)", (backend) => {
  let h: Harness;
  let relay: TcpRelay | null = null;
  let cookie: string;
  let dbClosed = false;

  beforeAll(async () => {
    const env: Record<string, string> = { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) };
    if (backend === "postgres") {
      // PostgreSQL behind a relay this suite can cut and restore: a stopped server, then a recovered one.
      const pg = new URL(PG_URL);
      relay = await startTcpRelay(pg.hostname, Number(pg.port || 5432));
      pg.port = String(relay.port);
      env.DATABASE_URL = pg.toString();
    }
    h = await startHarness(backend, env);
    cookie = (await h.account("user")).cookie;
    expect((await ask(h, { uri: "/home", cookie })).statusCode).toBe(200);
  });
  afterAll(async () => {
    if (dbClosed) {
      await h?.gh.app.close();
      await h?.backend.cleanup();
    } else await h?.close();
    await relay?.close();
  });

  it("the API, sign-in and forward-auth answer 503 unavailable with Retry-After; one error line for the whole outage", async () => {
    if (relay !== null) await relay.cut();
    else {
      // SQLite lives in the process: closing its connection is the outage.
      await h.gh.database.close();
      dbClosed = true;
    }
    const before = h.logs.lines.length;
    await flood(h, cookie, 10);
    const during = h.logs.lines.slice(before).map((l) => JSON.parse(l) as LogLine);
    const errors = during.filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).toEqual(["database unavailable: answering 503 unavailable until it answers again"]);
    expect(during.filter((l) => l.msg === "unhandled error")).toEqual([]);
    // /readyz says why, /healthz stays up.
    expect((await h.request({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  // SQLite lives in the process and has no outage that ends (its closed connection stays closed): PostgreSQL only.
  if (backend === "postgres")
  it("recovery is logged once (info), requests are served again, and a new outage is a new episode", async () => {
    if (relay === null) throw new Error("no relay");
    await relay.restore();
    const deadline = Date.now() + 15_000;
    while (!parsed(h).some((l) => l.level === 30 && l.msg === "database reachable again; requests are served") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(parsed(h).filter((l) => l.msg === "database reachable again; requests are served")).toHaveLength(1);
    expect((await h.request({ method: "GET", url: ME, cookie })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/home", cookie })).statusCode).toBe(200);

    await relay.cut();
    await flood(h, cookie, 2);
    expect(errorLines(h).filter((l) => l.msg.startsWith("database unavailable"))).toHaveLength(2);
    await relay.restore();
  });
});

describe.each(backendNames())("attack: a malformed escape in a proxied URL is refused as malformed (400), not as an outage (%s)", (backend) => {
  let p: ProxyHarness;
  let cookie: string;
  beforeAll(async () => {
    p = await startProxyHarness(backend);
    cookie = (await p.h.account("user")).cookie;
  });
  afterAll(async () => p?.close());

  it("?q=% and /% with and without a session: 400 invalid_request, nothing forwarded", async () => {
    for (const url of ["/x?q=%", "/x?q=%zz", "/%", "/a%2"]) {
      for (const c of [cookie, undefined]) {
        const res = await p.h.request({ method: "GET", url, ...(c ? { cookie: c } : {}), headers: { host: APP_HOST } });
        expect(res.statusCode, `${url} ${c ? "signed in" : "anonymous"}: ${res.body}`).toBe(400);
        expect(res.json()).toEqual({ error: "The request is invalid", code: "invalid_request" });
      }
    }
    expect(p.upstream.seen).toEqual([]);
  });
});

describe("attack: a banned or throttled client reaches the protected app through forward-auth while Redis is down (fail closed)", () => {
  let h: Harness;
  let redis: ChildProcess;
  let cookie: string;

  beforeAll(async () => {
    const port = await freePort();
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "pipe"] });
    await waitForOutput(redis, "Ready to accept connections", 10_000);
    h = await startHarness("sqlite", { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES), REDIS_URL: `redis://127.0.0.1:${port}` });
    cookie = (await h.account("user")).cookie;
    expect((await ask(h, { uri: "/home", cookie })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    if (redis && redis.exitCode === null) redis.kill("SIGKILL");
  });

  it("with Redis killed, forward-auth answers 503 unavailable (bans cannot be checked), never 200; /healthz stays up; one error line", async () => {
    const exited = new Promise((r) => redis.once("exit", r));
    redis.kill("SIGKILL");
    await exited;
    const before = h.logs.lines.length;
    for (let i = 0; i < 5; i++) {
      for (const endpoint of ["forward-auth", "auth-request"] as const) {
        const res = await ask(h, { endpoint, uri: "/home", cookie });
        expect(res.statusCode, res.body).toBe(503);
        expect(res.json()).toEqual(UNAVAILABLE);
        expect(res.headers["retry-after"]).toBeDefined();
        expect(res.headers["remote-user"]).toBeUndefined();
      }
    }
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const errors = h.logs.lines.slice(before).map((l) => JSON.parse(l) as LogLine).filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).toEqual(["Redis (rate limits and bans) unavailable: answering 503 unavailable until it answers again"]);
  });
});
