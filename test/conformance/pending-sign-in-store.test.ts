import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/core/crypto/tokens.js";
import type { PendingSignInRecord } from "../../src/core/sign-in/pending-sign-in-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const MIN = 60_000;

describe.each(backendNames())("PendingSignInStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  let n = 0;
  async function pending(overrides: Partial<PendingSignInRecord> = {}): Promise<PendingSignInRecord> {
    const u = newUser(`pending${++n}`);
    await fx.stores.users.insert(u);
    const record: PendingSignInRecord = {
      tokenHash: hashToken(`token-${n}-${backendName}`),
      userId: u.id,
      amr: ["pwd"],
      remember: true,
      ip: "2001:db8::7",
      userAgent: "Mozilla/5.0 ünïcode",
      createdAt: T0,
      expiresAt: T0 + 5 * MIN,
      failedAttempts: 0,
      ...overrides,
    };
    await fx.stores.pendingSignIns.insert(record);
    return record;
  }

  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("find returns the record until it expires, without using it up", async () => {
    const p = await pending();
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0)).toEqual(p);
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0 + 5 * MIN - 1)).toEqual(p);
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0 + 5 * MIN)).toBeNull();
    expect(await fx.stores.pendingSignIns.find(hashToken("unknown"), T0)).toBeNull();
  });

  it("consume hands the record to exactly one of many concurrent callers", async () => {
    const p = await pending();
    const results = await Promise.all(Array.from({ length: 8 }, () => fx.stores.pendingSignIns.consume(p.tokenHash, T0 + MIN)));
    expect(results.filter((r) => r !== null)).toEqual([p]);
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0 + MIN)).toBeNull();
  });

  it("consume refuses an expired record", async () => {
    const p = await pending();
    expect(await fx.stores.pendingSignIns.consume(p.tokenHash, T0 + 5 * MIN)).toBeNull();
  });

  it("recordFailure counts wrong factors and deletes the record at the cap", async () => {
    const p = await pending();
    await fx.stores.pendingSignIns.recordFailure(p.tokenHash, 3);
    await fx.stores.pendingSignIns.recordFailure(p.tokenHash, 3);
    expect((await fx.stores.pendingSignIns.find(p.tokenHash, T0))?.failedAttempts).toBe(2);
    await fx.stores.pendingSignIns.recordFailure(p.tokenHash, 3);
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0)).toBeNull();
  });

  it("delete and deleteExpired remove only what they name", async () => {
    const a = await pending();
    const b = await pending({ expiresAt: T0 + MIN });
    const c = await pending();
    await fx.stores.pendingSignIns.delete(a.tokenHash);
    expect(await fx.stores.pendingSignIns.find(a.tokenHash, T0)).toBeNull();
    expect(await fx.stores.pendingSignIns.deleteExpired(T0 + MIN)).toBeGreaterThanOrEqual(1);
    expect(await fx.stores.pendingSignIns.find(b.tokenHash, T0)).toBeNull();
    expect(await fx.stores.pendingSignIns.find(c.tokenHash, T0)).toEqual(c);
  });

  it("deleting the user deletes their pending sign-ins", async () => {
    const p = await pending();
    await fx.database.db.deleteFrom("users").where("id", "=", p.userId).execute();
    expect(await fx.stores.pendingSignIns.find(p.tokenHash, T0)).toBeNull();
  });
});
