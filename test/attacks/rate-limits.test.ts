import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import { limiterBackendNames, REDIS_URL, redisTestPrefix } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { BEHIND_PROXY, DIRECT_IP, freshIp, fromIp, harnessPool, loginAs, retryAfter } from "../helpers/protection.js";
import { expectErrorBody, forgedToken, ME, uname } from "../helpers/attacks.js";

const WRONG = "wrong-guess-password-1";
const MINUTE = 60_000;
const canary = (label: string) => `canary-${label}-${randomBytes(12).toString("hex")}`;

const me = (h: Harness, cookie: string | undefined, headers: Record<string, string> = {}) =>
  h.request({ method: "GET", url: ME, ...(cookie ? { cookie } : {}), headers });

describe.each(limiterBackendNames())("attack: rate limits and automated bans (sqlite, %s limiter)", (limiter) => {
  const pool = harnessPool();
  afterEach(() => pool.closeAll());

  it("ban fast path: an IP that trips limits 5 times is banned for an hour from every route, other IPs unaffected", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const attacker = freshIp();
    const bystander = freshIp();
    const name = uname("banned");
    const reg = await h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD }, headers: fromIp(attacker) });
    const cookie = sessionCookieFrom(reg)!;
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await loginAs(h, uname("hammer"), WRONG, fromIp(attacker))).statusCode);
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(5).fill(429)]);
    const banned = await h.gh.stores.audit.list({ type: "ip_banned", limit: 10 });
    expect(banned.map((e) => e.ip)).toEqual([attacker]);

    for (const res of [
      await h.request({ method: "GET", url: "/healthz", headers: fromIp(attacker) }),
      await me(h, cookie, fromIp(attacker)),
      // Refused before the body is even parsed.
      await h.request({ method: "POST", url: "/api/auth/login", payload: "{not json", headers: { ...fromIp(attacker), "content-type": "application/json" } }),
    ]) {
      expectErrorBody(res, 429, "rate_limited");
      expect(retryAfter(res)).toBeGreaterThan(3_590);
      expect(retryAfter(res)).toBeLessThanOrEqual(3_600);
    }
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(bystander) })).statusCode).toBe(200);
    expect((await me(h, cookie, fromIp(bystander))).statusCode).toBe(200);

    const list = await h.gh.bans.list();
    expect(list.map((b) => b.ip)).toEqual([attacker]);
    expect(list[0]!.until).toBe(h.clock.now() + 3_600_000);
    h.clock.advance(3_599_000);
    expect(retryAfter(await h.request({ method: "GET", url: "/healthz", headers: fromIp(attacker) }))).toBe(1);
    expect(await h.gh.bans.lift(attacker)).toBe(true);
    expect(await h.gh.bans.list()).toEqual([]);
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(attacker) })).statusCode).toBe(200);
    // (The hour has also ended the session; signing in again works.)
    expect((await loginAs(h, name, GOOD_PASSWORD, fromIp(attacker))).statusCode).toBe(200);
  });

  it("ban fast path: a ban ends by itself after an hour", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const ip = freshIp();
    for (let i = 0; i < 15; i++) await loginAs(h, uname("hammer"), WRONG, fromIp(ip));
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(ip) })).statusCode).toBe(429);
    h.clock.advance(3_600_000);
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(ip) })).statusCode).toBe(200);
    expect(await h.gh.bans.list()).toEqual([]);
  });

  it("per-route limit: registration 5/min per IP — the 6th is 429, another IP is not", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const ip = fromIp(freshIp());
    const register = (headers: Record<string, string>) =>
      h.request({ method: "POST", url: "/api/auth/register", json: { username: uname("massreg"), password: GOOD_PASSWORD }, headers });
    for (let i = 0; i < 5; i++) expect((await register(ip)).statusCode).toBe(201);
    const res = await register(ip);
    expectErrorBody(res, 429, "rate_limited");
    expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
    expect(retryAfter(res)).toBeLessThanOrEqual(60);
    expect((await register(fromIp(freshIp()))).statusCode).toBe(201);
    h.clock.advance(MINUTE);
    expect((await register(ip)).statusCode).toBe(201);
  });

  it("per-route limit: account deletion 2/min per user", async () => {
    const h = await pool.start(limiter);
    const a = await h.register(uname("delme"));
    const b = await h.register(uname("delother"));
    const del = (cookie: string) => h.request({ method: "DELETE", url: "/api/account", cookie, json: { password: WRONG } });
    expectErrorBody(await del(a.cookie), 403, "invalid_password");
    expectErrorBody(await del(a.cookie), 403, "invalid_password");
    expectErrorBody(await del(a.cookie), 429, "rate_limited");
    expectErrorBody(await del(b.cookie), 403, "invalid_password");
    h.clock.advance(MINUTE);
    expectErrorBody(await del(a.cookie), 403, "invalid_password");
  });

  it("per-route limit: the 121st /api/ request of a user in a minute is 429, another user is fine", async () => {
    const h = await pool.start(limiter);
    const a = await h.register(uname("chatty"));
    const b = await h.register(uname("quiet"));
    for (let i = 0; i < 120; i++) expect((await me(h, a.cookie)).statusCode).toBe(200);
    const res = await me(h, a.cookie);
    expectErrorBody(res, 429, "rate_limited");
    expect(retryAfter(res)).toBeLessThanOrEqual(60);
    expect((await me(h, b.cookie)).statusCode).toBe(200);
    h.clock.advance(MINUTE);
    expect((await me(h, a.cookie)).statusCode).toBe(200);
  });

  it("per-route limit: signed-out /api/ clients are limited per IP (forged session cookies are not a free lookup loop)", async () => {
    const h = await pool.start(limiter);
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++) statuses.push((await me(h, `gatehouse_session=${forgedToken()}`)).statusCode);
    expect(statuses.slice(0, 120).every((s) => s === 401)).toBe(true);
    expect(statuses[120]).toBe(429);
  });

  it("hash-queue overflow (AUTH-12): a flood of long-password logins gets 503 overloaded, never 500, while signed-in users keep working", async () => {
    // Relaxed limits (the harness default): only the hashing gate is under test.
    const h = pool.track(await startHarness("sqlite", { HASH_CONCURRENCY: "1", HASH_QUEUE: "1", ...(limiter === "redis" ? { REDIS_URL } : {}) }));
    const user = uname("floodsurvivor");
    const { cookie } = await h.register(user);
    const long = (i: number) => `${"x".repeat(250)}-${String(i).padStart(5, "0")}`;
    expect(long(1)).toHaveLength(256);
    // Distinct (unknown) names: no per-account delay interferes; unknown users are hashed too (dummy verify).
    const flood = Promise.all(Array.from({ length: 20 }, (_, i) => loginAs(h, uname("flooder"), long(i))));
    const [health, signedIn] = await Promise.all([h.request({ method: "GET", url: "/healthz" }), me(h, cookie)]);
    const results = await flood;
    expect(health.statusCode).toBe(200);
    expect(signedIn.statusCode).toBe(200);
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    const shed = results.filter((r) => r.statusCode === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) {
      expectErrorBody(r, 503, "overloaded");
      expect(retryAfter(r)).toBeGreaterThanOrEqual(1);
      // The flood's keep-alive connection is closed with the refusal: the next attempt pays for a new connection.
      expect(r.headers.connection).toBe("close");
    }
  });

  it("audit flooding: a run of 429s records one rate_limited event per IP and window", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const ip = freshIp();
    const other = freshIp();
    for (let i = 0; i < 13; i++) await loginAs(h, uname("flood"), WRONG, fromIp(ip));
    for (let i = 0; i < 11; i++) await loginAs(h, uname("flood"), WRONG, fromIp(other));
    const events = async (addr: string) => (await h.gh.stores.audit.list({ type: "rate_limited", limit: 100 })).filter((e) => e.ip === addr);
    expect(await events(ip)).toHaveLength(1);
    expect(await events(other)).toHaveLength(1);
    expect((await events(ip))[0]!.details).toMatchObject({ limit: "login" });
    // A new trip window (and the end of the 10-minute block): one more failure, then three refusals.
    h.clock.advance(10 * MINUTE);
    const again: number[] = [];
    for (let i = 0; i < 4; i++) again.push((await loginAs(h, uname("flood"), WRONG, fromIp(ip))).statusCode);
    expect(again).toEqual([401, 429, 429, 429]);
    expect(await events(ip)).toHaveLength(2);
  });

  it("log harvesting under throttling: canary passwords never reach audit rows or logs", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const user = uname("canaryuser");
    const secrets = [canary("password"), canary("guess"), canary("throttled"), canary("current")];
    const { cookie } = await h.register(user, secrets[0]);
    for (let i = 0; i < 12; i++) await loginAs(h, user, `${secrets[1]}-${i}`, fromIp("192.0.2.10"));
    expect((await loginAs(h, user, secrets[2]!, fromIp("192.0.2.10"))).statusCode).toBe(429);
    await h.request({ method: "POST", url: "/api/account/password", cookie, json: { currentPassword: secrets[3], newPassword: secrets[3] } });
    const rows = JSON.stringify(await h.gh.stores.audit.list({ limit: 1000 }));
    const logs = h.logs.text();
    expect(rows).toContain("rate_limited");
    for (const s of secrets) {
      expect(rows).not.toContain(s);
      expect(logs).not.toContain(s);
    }
  });

  it("log injection: CR/LF and forged JSON in the username and User-Agent leave one JSON object per log line", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const before = h.logs.lines.length;
    const username = 'bob\r\n{"type":"login_success"}';
    const ua = 'ua\r\n{"type":"login_success","msg":"forged"}';
    for (let i = 0; i < 12; i++) await loginAs(h, username, WRONG, { ...fromIp("192.0.2.20"), "user-agent": ua });
    const lines = h.logs.lines.slice(before);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.type).not.toBe("login_success");
      expect(parsed.msg).not.toBe("forged");
    }
    expect(await h.gh.stores.audit.list({ type: "login_success", limit: 10 })).toEqual([]);
    // Audit rows (login_failure, rate_limited) keep the User-Agent with its control characters escaped.
    const rows = await h.gh.stores.audit.list({ limit: 100 });
    expect(rows.map((r) => r.type)).toContain("rate_limited");
    const hasControl = (v: string) => [...v].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127);
    for (const r of rows) expect(hasControl(r.userAgent), r.userAgent).toBe(false);
  });
});

describe.runIf(limiterBackendNames().includes("redis"))("attack: rate limits across instances (sqlite, redis limiter)", () => {
  const pool = harnessPool();
  afterEach(() => pool.closeAll());

  it("two instances sharing Redis share the per-IP failure counter: 6 failures on A + 4 on B → the 11th on either is 429", async () => {
    const clock = createManualClock(1_767_225_600_000);
    const shared = { REDIS_PREFIX: redisTestPrefix() };
    const a = await pool.start("redis", shared, clock);
    const b = await pool.start("redis", shared, clock);
    const name = uname("twin");
    await a.register(name);
    await b.register(name);
    for (let i = 0; i < 6; i++) expect((await loginAs(a, name, WRONG)).statusCode).toBe(401);
    for (let i = 0; i < 4; i++) expect((await loginAs(b, name, WRONG)).statusCode).toBe(401);
    // The shared route window (10/min) is full too: the 11th in this minute is refused on both.
    expectErrorBody(await loginAs(b, uname("twin"), WRONG), 429, "rate_limited");
    clock.advance(MINUTE);
    // Past the route window only the shared failure counter can refuse (B's own account has just 4 failures).
    for (const h of [b, a]) {
      const res = await loginAs(h, name, GOOD_PASSWORD);
      expectErrorBody(res, 429, "rate_limited");
      expect(retryAfter(res)).toBeGreaterThan(60);
    }
    clock.advance(600_000);
    expect((await loginAs(b, name, GOOD_PASSWORD)).statusCode).toBe(200);
  });

  it("two instances sharing Redis share bans: banned on A means banned on B", async () => {
    const clock = createManualClock(1_767_225_600_000);
    const shared = { REDIS_PREFIX: redisTestPrefix() };
    const a = await pool.start("redis", shared, clock);
    const b = await pool.start("redis", shared, clock);
    for (let i = 0; i < 8; i++) await loginAs(a, uname("hammer"), WRONG);
    for (let i = 0; i < 7; i++) await loginAs(b, uname("hammer"), WRONG);
    expect((await b.request({ method: "GET", url: "/healthz" })).statusCode).toBe(429);
    expect((await a.request({ method: "GET", url: "/healthz" })).statusCode).toBe(429);
    expect((await a.gh.bans.list()).map((x) => x.ip)).toEqual([DIRECT_IP]);
  });

  it("Redis down → fail closed: login 503 unavailable (never 200), /healthz 200, /readyz 503", async () => {
    const h = pool.track(await startHarness("sqlite", { REDIS_URL: "redis://127.0.0.1:6390" }));
    const user = uname("nocache");
    // Registration is not regulated, but /api/ routes are rate-limited and the limiter is down: refused.
    const reg = await h.request({ method: "POST", url: "/api/auth/register", json: { username: user, password: GOOD_PASSWORD } });
    expectErrorBody(reg, 503, "unavailable");
    await h.gh.stores.users.insert({
      id: "00000000-0000-4000-8000-000000000001",
      username: user,
      usernameNormalized: user,
      email: null,
      emailNormalized: null,
      passwordHash: await createArgon2Hasher().hash(GOOD_PASSWORD),
      role: "user",
      createdAt: h.clock.now(),
    });
    for (const password of [GOOD_PASSWORD, WRONG]) expectErrorBody(await loginAs(h, user, password), 503, "unavailable");
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    expect(h.logs.text()).not.toContain(GOOD_PASSWORD);
  });
});
