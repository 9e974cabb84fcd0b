import { afterEach, describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import { createManualClock } from "../../src/core/clock.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { failClosed } from "../../src/core/rate-limit/fail-closed-store.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createSecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import { createMemoryLimiterStore, DEFAULT_MEMORY_LIMITER_KEYS } from "../../src/storage/memory/memory-limiter-store.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { BEHIND_PROXY, fromIp, loginAs, protectionEnv, retryAfter } from "../helpers/protection.js";
import { expectErrorBody, ME, uname } from "../helpers/attacks.js";

const WRONG = "wrong-guess-password-1";

/** The `i`th junk client: an address in a /64 of its own (what an attacker with a /32 or a botnet has plenty of). */
const junkIp = (i: number) => `2001:db8:${((i >> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}::${((i * 7) & 0xffff).toString(16)}`;

describe("attack: a lock wiped by key churn (in-memory limiter at its real default capacity)", () => {
  it("attack: a lock wiped by key churn — 105,000 fresh IPv6 addresses do not erase an account lock or an IP ban", { timeout: 60_000 }, async () => {
    expect(DEFAULT_MEMORY_LIMITER_KEYS).toBe(100_000);
    const clock = createManualClock(1_767_225_600_000);
    const events: { type: string; ip: string }[] = [];
    // Only the limiter is under test here; the audit trail is recorded in a list (the HTTP test below uses the databases).
    const audit = {
      record: async (e: { type: string; ip: string }) => {
        events.push({ type: e.type, ip: e.ip });
        return e;
      },
    } as unknown as AuditLog;
    const store = failClosed(createMemoryLimiterStore());
    const policy = { ...defaultProtectionPolicy, accountFailures: { ...defaultProtectionPolicy.accountFailures, lockAt: 10 } };
    const bans = createBanPolicy({ store, clock, audit, policy });
    const regulator = createSecretRegulator({ store, clock, audit, bans, policy });
    const ctx = (ip: string) => ({ ip, userAgent: "churn" });
    const victim = { key: "user:victim", userId: "victim" };
    /** One failed secret check: admitted, then recorded as wrong. */
    const fail = async (ip: string, subject: typeof victim | null) => regulator.record(await regulator.admit(ctx(ip), subject), false);

    // The victim's account is locked (10 failures, each after its delay) and an attacker's IP is banned.
    for (let n = 1; n <= 10; n++) {
      await fail(`192.0.2.${n}`, victim);
      clock.advance(20 * 60_000);
    }
    expect(events.filter((e) => e.type === "account_locked")).toHaveLength(1);
    for (let i = 0; i < 5; i++) await bans.trip({ ...ctx("198.51.100.66"), limit: "login" });
    expect(await bans.banRemainingMs("198.51.100.66")).toBe(3_600_000);

    // 105,000 failed secret checks, each from a fresh /64: every one wants a key of its own.
    let refusedForRoom = 0;
    for (let i = 0; i < 105_000; i++) {
      try {
        await fail(junkIp(i), null);
      } catch (err) {
        if (!isGatehouseError(err, "unavailable")) throw err;
        refusedForRoom++;
      }
    }
    // The room held 100,000 (less the few keys already there); the rest were refused (503), not made room for.
    expect(refusedForRoom).toBeGreaterThan(4_900);
    expect(refusedForRoom).toBeLessThan(5_100);

    // Nothing was forgotten: the lock holds (even the right password is refused) and so does the ban.
    expect(await regulator.failures("user:victim")).toBe(10);
    await expect(regulator.admit(ctx("192.0.2.1"), victim)).rejects.toMatchObject({ code: "rate_limited" });
    expect(await bans.banRemainingMs("198.51.100.66")).toBe(3_600_000);
  });
});

describe.each(backendNames())("attack: a lock wiped by key churn (%s, memory limiter of 1,000 keys per room, through HTTP)", (db) => {
  const open: Harness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });

  it("attack: a lock wiped by key churn — fresh IPv6 addresses past the store's capacity do not erase an account lock or an IP ban; new clients get 503 until keys expire", async () => {
    const ROOM = 1_000;
    const h = await startHarness(db, protectionEnv("memory", { ...BEHIND_PROXY, BRUTE_FORCE_ACCOUNT_LOCK: "10" }), undefined, { memoryLimiterKeys: ROOM });
    open.push(h);
    const victim = uname("churnvictim");
    const home = "192.0.2.200";
    await h.register(victim);
    // Lock the victim's password (10 failures from different IPs, each delay served) …
    for (let n = 1; n <= 10; n++) {
      expect((await loginAs(h, victim, WRONG, fromIp(`192.0.2.${n}`))).statusCode).toBe(401);
      h.clock.advance(20 * 60_000);
    }
    expectErrorBody(await loginAs(h, victim, GOOD_PASSWORD, fromIp(home)), 429, "rate_limited");
    // … and get an attacker banned (10 failures, 5 refusals).
    const banned = "198.51.100.66";
    for (let i = 0; i < 15; i++) await loginAs(h, uname("hammer"), WRONG, fromIp(banned));
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(banned) })).statusCode).toBe(429);

    // The churn: junk API tokens (a failed secret check each, no hashing) from 1,050 fresh /64s.
    const statuses = new Map<number, number>();
    let firstRefusal: ReturnType<typeof h.request> extends Promise<infer R> ? R | null : never = null;
    for (let i = 0; i < ROOM * 1.05; i++) {
      const res = await h.request({ method: "GET", url: ME, headers: { ...fromIp(junkIp(i + 1_000_000)), authorization: "Bearer junk" } });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 503 && firstRefusal === null) firstRefusal = res;
    }
    // Fail closed for new keys: once the room is full a new client is refused with 503, never let through unthrottled.
    expect([...statuses.keys()].sort()).toEqual([401, 503]);
    expect(firstRefusal).not.toBeNull();
    expectErrorBody(firstRefusal!, 503, "unavailable");
    expect(retryAfter(firstRefusal!)).toBeGreaterThanOrEqual(1);
    expect(h.logs.text()).toContain("in-memory rate-limit store is full");

    // Nothing was forgotten: the lock holds and the ban holds.
    expectErrorBody(await loginAs(h, victim, GOOD_PASSWORD, fromIp(home)), 429, "rate_limited");
    expectErrorBody(await h.request({ method: "GET", url: "/healthz", headers: fromIp(banned) }), 429, "rate_limited");
    // Health probes keep answering for anyone who is not banned.
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(junkIp(9_999_999)) })).statusCode).toBe(200);
  });
});
