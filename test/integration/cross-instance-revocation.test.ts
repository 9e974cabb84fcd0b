import type { LightMyRequestResponse } from "fastify";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { PG_URL, REDIS_URL, redisTestPrefix } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/**
 * Two instances of one deployment in one process: the same PostgreSQL schema
 * (and, for the Redis bus, the same Redis key prefix), each with its own
 * in-process session cache. Each harness has a frozen manual clock, so B's
 * cached lookups never reach the cache's re-read interval: without the
 * revocation bus B would accept a revoked session for as long as the test
 * waited. The deadline below is wall time; the 100 ms p99 target is measured
 * by bench/cross-instance-revocation.ts.
 */
const DEADLINE_MS = 1_000;
/** A reconnection takes the client's retry delay (200 ms for Redis, 100 ms for PostgreSQL) plus the subscription. */
const RECONNECT_DEADLINE_MS = 5_000;

const me = (h: Harness, cookie: string) => h.request({ method: "GET", url: "/api/auth/me", cookie });

/** Polls `probe` until it answers one of `statuses`; the wall time it took, or a failure naming the last status. */
async function refusedWithin(probe: () => Promise<LightMyRequestResponse>, deadlineMs: number, statuses = [401, 403]): Promise<number> {
  const start = performance.now();
  let last = 0;
  while (performance.now() - start < deadlineMs) {
    last = (await probe()).statusCode;
    if (statuses.includes(last)) return performance.now() - start;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`still answered ${last} after ${deadlineMs} ms`);
}

describe.each(["redis", "postgres"] as const)("a revocation on instance A is refused by instance B at once (%s bus)", (bus) => {
  let pa: ProxyHarness;
  let pb: ProxyHarness;
  let a: Harness;
  let b: Harness;
  let superadmin: { cookie: string; id: string; name: string };
  const prefix = redisTestPrefix();

  beforeAll(async () => {
    // Without REDIS_URL on PostgreSQL the bus is LISTEN/NOTIFY.
    const env: Record<string, string> = bus === "redis" ? { REDIS_URL, REDIS_PREFIX: prefix } : {};
    pa = await startProxyHarness("postgres", env);
    pb = await startProxyHarness("postgres", env, undefined, undefined, { sharedBackend: pa.h.backend });
    a = pa.h;
    b = pb.h;
    superadmin = await a.account("superadmin");
  });
  afterAll(async () => {
    await pb?.close();
    await pa?.close();
  });

  /** A user signed in (through A), with B's cache warmed by a request. */
  async function warmedOnB(role: "user" | "admin" = "user") {
    const account = await a.account(role);
    expect((await me(b, account.cookie)).statusCode).toBe(200);
    expect((await me(b, account.cookie)).statusCode).toBe(200);
    return account;
  }

  it("both instances use the bus, each with its own instance id", () => {
    expect(a.gh.revocations?.kind).toBe(bus);
    expect(b.gh.revocations?.kind).toBe(bus);
    expect(a.gh.revocations?.instanceId).not.toBe(b.gh.revocations?.instanceId);
  });

  it("sign-out on A: B refuses the session", async () => {
    const u = await warmedOnB();
    expect((await a.request({ method: "POST", url: "/api/auth/logout", cookie: u.cookie })).statusCode).toBeLessThan(300);
    await refusedWithin(() => me(b, u.cookie), DEADLINE_MS);
  });

  it("an admin blocking the user on A: B refuses the session", async () => {
    const u = await warmedOnB();
    expect((await a.request({ method: "PATCH", url: `/api/admin/users/${u.id}`, cookie: superadmin.cookie, json: { blocked: true } })).statusCode).toBe(200);
    await refusedWithin(() => me(b, u.cookie), DEADLINE_MS);
  });

  it("an admin demoted on A: B refuses the admin's session", async () => {
    const u = await warmedOnB("admin");
    expect((await a.request({ method: "PATCH", url: `/api/admin/users/${u.id}`, cookie: superadmin.cookie, json: { role: "user" } })).statusCode).toBe(200);
    await refusedWithin(() => me(b, u.cookie), DEADLINE_MS);
  });

  it("a password change on A: B refuses the user's other session and the replaced one", async () => {
    const u = await warmedOnB();
    const second = await a.login(u.name);
    expect((await me(b, second.cookie)).statusCode).toBe(200);
    const res = await a.request({ method: "POST", url: "/api/account/password", cookie: second.cookie, json: { currentPassword: GOOD_PASSWORD, newPassword: "velvet-harbor-compass-77" } });
    expect(res.statusCode).toBe(204);
    await refusedWithin(() => me(b, u.cookie), DEADLINE_MS);
    await refusedWithin(() => me(b, second.cookie), DEADLINE_MS);
    // The rotated session works on both.
    const rotated = sessionCookieFrom(res) as string;
    expect((await me(b, rotated)).statusCode).toBe(200);
  });

  it("B ignores nothing of its own: a sign-out on B is refused by A too", async () => {
    const u = await warmedOnB();
    expect((await me(a, u.cookie)).statusCode).toBe(200);
    expect((await b.request({ method: "POST", url: "/api/auth/logout", cookie: u.cookie })).statusCode).toBeLessThan(300);
    await refusedWithin(() => me(a, u.cookie), DEADLINE_MS);
  });

  it("a short-lived process (a CLI command) revoking and closing at once still reaches B", async () => {
    const u = await warmedOnB();
    const env: Record<string, string> = bus === "redis" ? { REDIS_URL, REDIS_PREFIX: prefix } : {};
    const cli = await startHarness("postgres", env, undefined, { sharedBackend: a.backend });
    await cli.gh.sessions.revokeAllForUser(u.id);
    await cli.close();
    await refusedWithin(() => me(b, u.cookie), DEADLINE_MS);
  });

  it("when B's subscription is cut and comes back, B's whole cache is flushed (notices sent meanwhile are lost)", async () => {
    const u = await warmedOnB();
    // Deleted behind Gatehouse's back: nothing is published, and B's frozen cache keeps accepting.
    await a.gh.database.db.deleteFrom("sessions").where("user_id", "=", u.id).execute();
    expect((await me(b, u.cookie)).statusCode).toBe(200);
    const name = `gatehouse-revocations-${b.gh.revocations?.instanceId}`;
    if (bus === "redis") {
      const admin = new Redis(REDIS_URL);
      try {
        const clients = String(await admin.client("LIST"));
        const id = /id=(\d+) .*name=(\S+)/g;
        const ids = [...clients.matchAll(id)].filter((m) => m[2] === name).map((m) => m[1]);
        expect(ids).toHaveLength(1);
        await admin.client("KILL", "ID", ids[0] as string);
      } finally {
        admin.disconnect();
      }
    } else {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        const { rowCount } = await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1", [name]);
        expect(rowCount).toBe(1);
      } finally {
        await admin.end();
      }
    }
    await refusedWithin(() => me(b, u.cookie), RECONNECT_DEADLINE_MS);
    // Back on the bus: the next revocation on A reaches B again.
    const v = await warmedOnB();
    expect((await a.request({ method: "POST", url: "/api/auth/logout", cookie: v.cookie })).statusCode).toBeLessThan(300);
    await refusedWithin(() => me(b, v.cookie), DEADLINE_MS);
  });

  it("a WebSocket proxied by B closes when its session is revoked on A", async () => {
    const u = await a.account();
    const login = await b.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: u.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    const cookie = sessionCookieFrom(login) as string;
    const base = await listen(b);
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws`, [], { headers: { host: APP_HOST, origin: APP_ORIGIN, cookie } });
    const closed = new Promise<{ code: number; at: number }>((r) => ws.once("close", (code) => r({ code, at: performance.now() })));
    await new Promise<void>((resolve, reject) => {
      ws.once("message", () => resolve());
      ws.once("error", reject);
    });
    const start = performance.now();
    expect((await a.request({ method: "POST", url: "/.gatehouse/api/auth/logout", cookie, headers: { host: APP_HOST, origin: APP_ORIGIN } })).statusCode).toBeLessThan(300);
    const outcome = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), DEADLINE_MS))]);
    if (outcome === null) ws.terminate();
    expect(outcome?.code).toBe(1008);
    expect((outcome?.at ?? Infinity) - start).toBeLessThan(DEADLINE_MS);
  });
});
