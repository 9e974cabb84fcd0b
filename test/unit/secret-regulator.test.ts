import { describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import type { NewAuditEvent } from "../../src/core/audit/audit-event.js";
import { createManualClock } from "../../src/core/clock.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createSecretRegulator, type CheckSubject } from "../../src/core/rate-limit/secret-regulator.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";

const MIN = 60_000;

/** The real regulator on the in-memory limiter, with a manual clock and the audit trail in a list. */
function fixture(lockAt = 10) {
  const clock = createManualClock(1_767_225_600_000);
  const events: NewAuditEvent[] = [];
  const audit = { record: async (e: NewAuditEvent) => (events.push(e), e) } as unknown as AuditLog;
  const store = createMemoryLimiterStore();
  const policy = { ...defaultProtectionPolicy, accountFailures: { ...defaultProtectionPolicy.accountFailures, lockAt } };
  const bans = createBanPolicy({ store, clock, audit, policy });
  const regulator = createSecretRegulator({ store, clock, audit, bans, policy });
  return { clock, events, regulator };
}

const alice: CheckSubject = { key: "user:alice", userId: "alice" };
const ctx = (ip = "192.0.2.1") => ({ ip, userAgent: "vitest" });

describe("secret regulator: admit, then record the verdict", () => {
  it("brute force from one IP: the 11th consecutive guess is refused (429 rate_limited, Retry-After) before the secret is compared, even a right one", async () => {
    const { regulator } = fixture();
    for (let i = 0; i < 10; i++) await regulator.record(await regulator.admit(ctx(), null), false);
    await expect(regulator.admit(ctx(), null)).rejects.toMatchObject({ code: "rate_limited", status: 429, retryAfter: 600 });
    // Another client is not affected.
    await regulator.record(await regulator.admit(ctx("198.51.100.7"), null), true);
  });

  it("a right secret resets the IP's and the account's counters", async () => {
    const { regulator } = fixture();
    for (let i = 0; i < 4; i++) await regulator.record(await regulator.admit(ctx(), alice), false);
    expect(await regulator.failures(alice.key)).toBe(4);
    await regulator.record(await regulator.admit(ctx(), alice), true);
    expect(await regulator.failures(alice.key)).toBe(0);
    // The IP's counter restarted too: ten fresh failures are admitted again.
    for (let i = 0; i < 10; i++) await regulator.record(await regulator.admit(ctx(), null), false);
  });

  it("concurrent guesses: an admitted attempt counts as a failure until a right verdict, so a verdict never recorded stays one", async () => {
    const { regulator } = fixture();
    const admitted = await Promise.all(Array.from({ length: 10 }, () => regulator.admit(ctx(), null)));
    expect(admitted).toHaveLength(10);
    // None recorded yet: the 11th is already refused.
    await expect(regulator.admit(ctx(), null)).rejects.toMatchObject({ code: "rate_limited" });
  });

  it("an account slows down from the 6th failure and locks at the lock threshold, with one account_locked event", async () => {
    const { regulator, clock, events } = fixture(10);
    for (let n = 1; n <= 10; n++) {
      const admission = await regulator.admit(ctx(`192.0.2.${n}`), alice);
      expect(admission.failures).toBe(n);
      await regulator.record(admission, false);
      // The 6th failure asks for a wait before the next attempt.
      if (n === 6) await expect(regulator.admit(ctx("192.0.2.99"), alice)).rejects.toMatchObject({ code: "rate_limited" });
      clock.advance(20 * MIN);
    }
    expect(events.filter((e) => e.type === "account_locked")).toEqual([expect.objectContaining({ userId: "alice", details: { failures: 10 } })]);
    // Locked: refused however long one waits, from any IP, until an unlock.
    clock.advance(24 * 60 * MIN);
    await expect(regulator.admit(ctx("203.0.113.5"), alice)).rejects.toMatchObject({ code: "rate_limited" });
    await regulator.unlock(alice.key);
    expect(await regulator.failures(alice.key)).toBe(0);
    await regulator.record(await regulator.admit(ctx("203.0.113.5"), alice), true);
  });

  it("a lookup runs only once the IP check passed, and the admission carries what it found", async () => {
    const { regulator } = fixture();
    let lookups = 0;
    const lookup = async () => {
      lookups++;
      return { ...alice, found: "the user record" };
    };
    const admission = await regulator.admit(ctx(), lookup);
    expect(admission.subject.found).toBe("the user record");
    await regulator.record(admission, false);
    for (let i = 0; i < 9; i++) await regulator.record(await regulator.admit(ctx(), null), false);
    await expect(regulator.admit(ctx(), lookup)).rejects.toMatchObject({ code: "rate_limited" });
    expect(lookups).toBe(1);
  });

  it("one verdict per admission: recording a second one is a bug, not a second reset", async () => {
    const { regulator } = fixture();
    const admission = await regulator.admit(ctx(), alice);
    await regulator.record(admission, false);
    await expect(regulator.record(admission, true)).rejects.toThrow(/recorded twice/);
    expect(await regulator.failures(alice.key)).toBe(1);
  });
});
