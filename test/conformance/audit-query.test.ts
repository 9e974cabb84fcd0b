import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog, type AuditLog } from "../../src/core/audit/audit-log.js";
import { createManualClock } from "../../src/core/clock.js";
import { cryptoRandom } from "../../src/core/random.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { backendNames } from "../helpers/backends.js";
import { openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = Date.UTC(2026, 5, 1);

describe.each(backendNames())("audit search, pagination and retention (%s)", (backendName) => {
  let fx: StoreFixture;
  let audit: AuditLog;
  const clock = createManualClock(T0);
  const base = { ip: "198.51.100.7", userAgent: "audit-query" };

  beforeAll(async () => {
    fx = await openStores(backendName);
    audit = createAuditLog({ store: fx.stores.audit, clock, random: cryptoRandom, retentionMs: 90 * 86_400_000 });
    // 25 events one minute apart: alternating users, every fifth from another IP, several in the same millisecond at the end.
    for (let i = 0; i < 25; i++) {
      if (i < 22) clock.advance(60_000);
      await audit.record({
        type: i % 3 === 0 ? "login_failure" : "login_success",
        userId: i % 2 === 0 ? "user-a" : "user-b",
        ...base,
        ip: i % 5 === 0 ? "203.0.113.9" : base.ip,
        details: { i },
      });
    }
  });
  afterAll(async () => fx?.close());

  it("walks every event exactly once, newest first, through cursors (even with equal timestamps)", async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await audit.search({ limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.events.map((e) => e.details.i as number));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    // Events 21–24 share one timestamp: they come first, in id order, and the cursor splits them without loss.
    expect(new Set(seen.slice(0, 4))).toEqual(new Set([21, 22, 23, 24]));
    expect(seen.slice(4)).toEqual([20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it("filters by type, user, IP and time range together", async () => {
    const page = await audit.search({ type: "login_failure", userId: "user-a", limit: 50 });
    expect(page.events.length).toBeGreaterThan(0);
    expect(page.events.every((e) => e.type === "login_failure" && e.userId === "user-a")).toBe(true);
    const byIp = await audit.search({ ip: "203.0.113.9", limit: 50 });
    expect(byIp.events.map((e) => e.details.i).sort((a, b) => Number(a) - Number(b))).toEqual([0, 5, 10, 15, 20]);
    const window = await audit.search({ from: T0 + 5 * 60_000, to: T0 + 8 * 60_000, limit: 50 });
    expect(window.events.map((e) => e.details.i)).toEqual([6, 5, 4]);
  });

  it("refuses a forged cursor with invalid_request", async () => {
    for (const cursor of ["not-base64!!", Buffer.from("abc").toString("base64url"), Buffer.from("12:").toString("base64url")]) {
      await expect(audit.search({ limit: 5, cursor })).rejects.toSatisfy((err: unknown) => isGatehouseError(err, "invalid_request"));
    }
  });

  it("prunes events past retention only", async () => {
    clock.advance(90 * 86_400_000 - 10 * 60_000);
    const pruned = await audit.prune();
    expect(pruned).toBeGreaterThan(0);
    expect(pruned).toBeLessThan(25);
    const rest = await audit.search({ limit: 200 });
    expect(rest.events.length).toBe(25 - pruned);
    expect(rest.events.every((e) => e.at >= clock.now() - 90 * 86_400_000)).toBe(true);
  });
});
