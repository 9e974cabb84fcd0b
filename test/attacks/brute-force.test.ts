import { randomInt } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { limiterBackendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import { BEHIND_PROXY, DIRECT_IP, freshIp, fromIp, harnessPool, loginAs, retryAfter } from "../helpers/protection.js";
import { expectErrorBody, uname } from "../helpers/attacks.js";

const WRONG = "wrong-guess-password-1";
const MINUTE = 60_000;

const randomIp = () => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** Fresh random values in every header a naive server would take the client IP from. */
function spoofedHeaders(): Record<string, string> {
  return {
    "x-forwarded-for": `${randomIp()}, ${randomIp()}`,
    "x-real-ip": randomIp(),
    forwarded: `for=${randomIp()};proto=https`,
    "true-client-ip": randomIp(),
    "cf-connecting-ip": randomIp(),
    "x-client-ip": randomIp(),
  };
}

function expect429(res: LightMyRequestResponse, maxRetryAfter: number): number {
  expectErrorBody(res, 429, "rate_limited");
  const ra = retryAfter(res);
  expect(ra).toBeGreaterThanOrEqual(1);
  expect(ra).toBeLessThanOrEqual(maxRetryAfter);
  return ra;
}

async function registerId(h: Harness, username: string, email?: string): Promise<string> {
  const { res } = await h.register(username, GOOD_PASSWORD, email);
  return res.json().user.id as string;
}

describe.each(limiterBackendNames())("attack: brute force (sqlite, %s limiter)", (limiter) => {
  const pool = harnessPool();
  afterEach(() => pool.closeAll());

  it("rate-limit bypass by spoofed X-Forwarded-For / X-Real-IP / Forwarded / True-Client-IP / CF-Connecting-IP on a direct connection fails", async () => {
    const h = await pool.start(limiter);
    const victim = uname("spoofvictim");
    await h.register(victim);
    for (let i = 0; i < 10; i++) {
      const res = await loginAs(h, uname("spoofguess"), WRONG, spoofedHeaders());
      expectErrorBody(res, 401, "invalid_credentials");
    }
    // The 11th, even with the right password and fresh spoofed headers, is refused.
    expect429(await loginAs(h, victim, GOOD_PASSWORD, spoofedHeaders()), 600);
    // Past the 1-minute route window it is still the 10-minute IP block that refuses.
    h.clock.advance(MINUTE + 1_000);
    const blocked = expect429(await loginAs(h, victim, GOOD_PASSWORD, spoofedHeaders()), 600);
    expect(blocked).toBeGreaterThan(60);
    h.clock.advance(600_000);
    expect((await loginAs(h, victim, GOOD_PASSWORD, spoofedHeaders())).statusCode).toBe(200);
    const failures = await h.gh.stores.audit.list({ type: "login_failure", limit: 50 });
    expect(failures).toHaveLength(10);
    for (const e of failures) expect(e.ip).toBe(DIRECT_IP);
  });

  it("behind a trusted proxy the right-most untrusted X-Forwarded-For address is keyed, one counter per client", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const victim = uname("proxyvictim");
    await h.register(victim);
    // The client prepends whatever it likes; the proxy appends the real address.
    const via = (real: string) => ({ "x-forwarded-for": `${randomIp()}, 1.2.3.4, ${real}` });
    for (let i = 0; i < 5; i++) expect((await loginAs(h, uname("guess"), WRONG, via("203.0.113.9"))).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await loginAs(h, uname("guess"), WRONG, via("203.0.113.10"))).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await loginAs(h, uname("guess"), WRONG, via("203.0.113.9"))).statusCode).toBe(401);
    h.clock.advance(MINUTE);
    expect429(await loginAs(h, victim, GOOD_PASSWORD, { "x-forwarded-for": "1.2.3.4, 203.0.113.9" }), 600);
    expect((await loginAs(h, victim, GOOD_PASSWORD, via("203.0.113.10"))).statusCode).toBe(200);
    const ips = new Set((await h.gh.stores.audit.list({ type: "login_failure", limit: 50 })).map((e) => e.ip));
    expect([...ips].sort()).toEqual(["203.0.113.10", "203.0.113.9"]);
  });

  it("credential stuffing: one IP, many usernames → blocked after 10 consecutive failures, the real users elsewhere unaffected", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const attacker = fromIp(freshIp());
    const real = uname("stuffreal");
    await h.register(real);
    // Two route windows of 5, so the 10/min route limit never trips: only the failure counter is tested.
    for (let i = 0; i < 10; i++) {
      if (i === 5) h.clock.advance(MINUTE);
      const name = i % 3 === 0 ? real : uname("stuffed");
      expect((await loginAs(h, name, `${WRONG}-${i}`, attacker)).statusCode).toBe(401);
    }
    const ra = expect429(await loginAs(h, real, GOOD_PASSWORD, attacker), 600);
    expect(ra).toBeGreaterThan(60);
    expect429(await loginAs(h, uname("stuffed"), WRONG, attacker), 600);
    expect((await loginAs(h, real, GOOD_PASSWORD, fromIp(freshIp()))).statusCode).toBe(200);
  });

  it("credential stuffing: only consecutive failures count — a success from the IP resets its counter", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const ip = fromIp(freshIp());
    const real = uname("stuffok");
    await h.register(real);
    for (let i = 0; i < 9; i++) expect((await loginAs(h, uname("miss"), WRONG, ip)).statusCode).toBe(401);
    expect((await loginAs(h, real, GOOD_PASSWORD, ip)).statusCode).toBe(200);
    h.clock.advance(MINUTE);
    for (let i = 0; i < 9; i++) expect((await loginAs(h, uname("miss"), WRONG, ip)).statusCode).toBe(401);
    expect((await loginAs(h, real, GOOD_PASSWORD, ip)).statusCode).toBe(200);
  });

  it("password spraying at one account from many IPs: growing Retry-After from the 7th attempt, capped at 900 s", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const victim = uname("sprayed");
    const id = await registerId(h, victim);
    for (let n = 1; n <= 6; n++) expect((await loginAs(h, victim, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    const seen: number[] = [];
    for (let n = 6; n <= 16; n++) {
      // n failures so far: the next attempt waits 2^(n-5) s (capped), from any IP, even with the right password.
      const wait = Math.min(2 ** (n - 5), 900);
      const refused = await loginAs(h, victim, n % 2 === 0 ? GOOD_PASSWORD : WRONG, fromIp(freshIp()));
      expect(expect429(refused, 900)).toBe(wait);
      seen.push(wait);
      h.clock.advance(wait * 1000 - 1);
      expect(retryAfter(await loginAs(h, victim, WRONG, fromIp(freshIp())))).toBe(1);
      h.clock.advance(1);
      expect((await loginAs(h, victim, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    }
    expect(seen).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
    expect(await h.gh.regulator.failures(`user:${id}`)).toBe(17);
    h.clock.advance(900_000);
    expect((await loginAs(h, victim, GOOD_PASSWORD, fromIp(freshIp()))).statusCode).toBe(200);
    expect(await h.gh.regulator.failures(`user:${id}`)).toBe(0);
    for (let n = 1; n <= 6; n++) expect((await loginAs(h, victim, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    expect(expect429(await loginAs(h, victim, WRONG, fromIp(freshIp())), 900)).toBe(2);
  });

  it("lockout weaponization: spraying a victim's account does not get the victim's own IP banned", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const victim = uname("weaponized");
    const home = fromIp(freshIp());
    const cookie = sessionCookieFrom(await h.request({ method: "POST", url: "/api/auth/register", json: { username: victim, password: GOOD_PASSWORD }, headers: home }))!;
    for (let n = 1; n <= 12; n++) {
      if (n > 6) h.clock.advance(2 ** (n - 6) * 1000); // each delay just served
      expect((await loginAs(h, victim, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    }
    // The real user retries a few times from home: throttled (429) like anyone, but not punished for the attacker's work.
    for (let i = 0; i < 5; i++) expect((await loginAs(h, victim, GOOD_PASSWORD, home)).statusCode).toBe(429);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie, headers: home })).statusCode).toBe(200);
    expect(await h.gh.bans.list()).toEqual([]);
  });

  it("limiter key variants: `Name`, ` name`, `NAME` and the email share one account counter", async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const base = uname("variant");
    const display = base[0]!.toUpperCase() + base.slice(1);
    const email = `${base}@example.test`;
    const id = await registerId(h, display, email);
    const variants = [display, ` ${base}`, base.toUpperCase(), email.toUpperCase(), ` ${email} `, base];
    for (const v of variants) expect((await loginAs(h, v, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    expect(await h.gh.regulator.failures(`user:${id}`)).toBe(6);
    for (const v of [...variants, `${email}.`]) {
      const res = await loginAs(h, v, GOOD_PASSWORD, fromIp(freshIp()));
      expect(res.statusCode, JSON.stringify(v)).not.toBe(200);
      if (v !== `${email}.`) expect(expect429(res, 2)).toBe(2);
    }
    h.clock.advance(2_000);
    expect((await loginAs(h, `  ${base.toUpperCase()} `, GOOD_PASSWORD, fromIp(freshIp()))).statusCode).toBe(200);
  });

  it("account lockout: 100 consecutive failures lock the password factor (account_locked) until an admin unlocks it", { timeout: 30_000 }, async () => {
    const h = await pool.start(limiter, BEHIND_PROXY);
    const victim = uname("lockvictim");
    const id = await registerId(h, victim);
    for (let n = 1; n <= 100; n++) {
      const res = await loginAs(h, victim, `${WRONG}-${n}`, fromIp(freshIp()));
      expect(res.statusCode, `failure #${n}`).toBe(401);
      h.clock.advance(15 * MINUTE);
    }
    expect429(await loginAs(h, victim, GOOD_PASSWORD, fromIp(freshIp())), 900);
    h.clock.advance(7 * 24 * 60 * MINUTE);
    expect429(await loginAs(h, victim, GOOD_PASSWORD, fromIp(freshIp())), 900);
    const locked = await h.gh.stores.audit.list({ type: "account_locked", limit: 10 });
    expect(locked).toHaveLength(1);
    expect(locked[0]!.userId).toBe(id);
    await h.gh.regulator.unlock(`user:${id}`);
    expect((await loginAs(h, victim, GOOD_PASSWORD, fromIp(freshIp()))).statusCode).toBe(200);
  });

  it("enumeration under throttling: a throttled unknown user looks exactly like a throttled known user", async () => {
    // A lock at 10 failures (the lowest allowed) reaches the locked state quickly, too.
    const h = await pool.start(limiter, { ...BEHIND_PROXY, BRUTE_FORCE_ACCOUNT_LOCK: "10" });
    const known = uname("knownthrottled");
    await h.register(known);
    const ghost = uname("ghostthrottled");
    const shape = (res: LightMyRequestResponse) => ({
      status: res.statusCode,
      body: res.body,
      retryAfter: res.headers["retry-after"],
      headers: Object.keys(res.headers)
        .filter((k) => k !== "date" && k !== "x-request-id")
        .sort(),
    });
    const probe = async (name: string, password: string) => shape(await loginAs(h, name, password, fromIp(freshIp())));
    const step = async (failures: number) => {
      for (const name of [known, ghost]) for (let i = 0; i < failures; i++) expect((await loginAs(h, name, WRONG, fromIp(freshIp()))).statusCode).toBe(401);
    };
    await step(6);
    const delayed = { known: await probe(known, GOOD_PASSWORD), ghost: await probe(ghost, GOOD_PASSWORD) };
    expect(delayed.known.status).toBe(429);
    expect(delayed.ghost).toEqual(delayed.known);
    // Drive both to the lock: 4 more failures, each after its delay.
    for (const wait of [2, 4, 8, 16]) {
      h.clock.advance(wait * 1000);
      await step(1);
    }
    h.clock.advance(3_600_000);
    const locked = { known: await probe(known, GOOD_PASSWORD), ghost: await probe(ghost, WRONG) };
    expect(locked.known.status).toBe(429);
    expect(locked.ghost).toEqual(locked.known);
  });

  it("RL-07 race: 50 concurrent wrong-password logins from one IP → at most 10 answered 401, the rest 429", async () => {
    // A hashing queue deep enough for the burst: load shedding (503) must not stand in for the limiter here.
    const h = await pool.start(limiter, { HASH_QUEUE: "100" });
    const names = Array.from({ length: 50 }, () => uname("racer"));
    const results = await Promise.all(names.map((n) => loginAs(h, n, WRONG)));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50 - statuses.filter((s) => s === 401).length);
  });

  it("RL-07 race: with the route limit out of the way, the failure counter alone lets exactly 10 concurrent guesses through", async () => {
    const h = await pool.start(limiter, { RATE_LIMIT_LOGIN: "1000/1m", AUTO_BAN_TRIPS: "0", HASH_QUEUE: "100" });
    const victim = uname("racevictim");
    await h.register(victim);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => loginAs(h, i < 25 ? uname("racer") : victim, `${WRONG}-${i}`)));
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    // Even the right password is refused now.
    expect429(await loginAs(h, victim, GOOD_PASSWORD), 600);
  });

  it("RL-04: current-password checks share the throttles — 10 wrong currentPassword from one IP, the 11th is 429", async () => {
    const h = await pool.start(limiter);
    const users: { name: string; cookie: string }[] = [];
    for (const name of [uname("pwa"), uname("pwb"), uname("pwc")]) users.push({ name, cookie: (await h.register(name)).cookie });
    const change = (cookie: string, currentPassword: string) =>
      h.request({ method: "POST", url: "/api/account/password", cookie, json: { currentPassword, newPassword: "velvet-harbor-compass-77" } });
    // Five each from two accounts (below any per-account delay): only the IP counter reaches 10.
    for (const u of users.slice(0, 2)) for (let i = 0; i < 5; i++) expectErrorBody(await change(u.cookie, WRONG), 403, "invalid_password");
    expect429(await change(users[2]!.cookie, GOOD_PASSWORD), 600);
    // Same throttle as login: that IP's logins are refused too, even with the right password.
    expect429(await loginAs(h, users[2]!.name, GOOD_PASSWORD), 600);
    h.clock.advance(600_000);
    expect((await change(users[2]!.cookie, GOOD_PASSWORD)).statusCode).toBe(204);
  });
});
