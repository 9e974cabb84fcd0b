import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import { createManualClock } from "../../src/core/clock.js";
import type { RecoveryCodeRow } from "../../src/core/mfa/recovery-codes/recovery-code-store.js";
import { createRecoveryCodes } from "../../src/core/mfa/recovery-codes/recovery-codes.js";
import { cryptoRandom } from "../../src/core/random.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";
import { cheapArgon2 } from "../helpers/recovery-codes.js";

const T0 = 1_767_225_600_000;
const HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
let seq = 0;

describe.each(backendNames())("RecoveryCodeStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  const hasher = cheapArgon2();
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => {
    await fx?.close();
    await hasher.close();
  });

  const store = () => fx.stores.recoveryCodes;
  async function user(): Promise<string> {
    const u = newUser(`codeholder${++seq}`);
    await fx.stores.users.insert(u);
    return u.id;
  }
  const rows = (userId: string, n: number, createdAt = T0): RecoveryCodeRow[] =>
    Array.from({ length: n }, (_, i) => ({ id: randomUUID(), userId, lookup: `l${String(i).padStart(3, "0")}`, codeHash: HASH, createdAt, usedAt: null }));

  it("replaceAll stores the rows with every field mapped; findUnused finds by (user, lookup) only", async () => {
    const userId = await user();
    const other = await user();
    const mine = rows(userId, 10);
    await store().replaceAll(userId, mine);
    await store().replaceAll(other, rows(other, 3));
    expect(await store().findUnused(userId, "l004")).toEqual(mine[4]);
    expect(await store().findUnused(userId, "zzzz")).toBeNull();
    expect(await store().findUnused(randomUUID(), "l004")).toBeNull();
    expect(await store().countUnused(userId)).toBe(10);
    expect(await store().countUnused(other)).toBe(3);
  });

  it("replaceAll removes every old code of the user (used or not) and no one else's", async () => {
    const userId = await user();
    const other = await user();
    const old = rows(userId, 10);
    await store().replaceAll(userId, old);
    await store().replaceAll(other, rows(other, 2));
    expect(await store().markUsed(old[0]!.id, T0 + 1)).toBe(true);
    const fresh = rows(userId, 10, T0 + 5).map((r, i) => ({ ...r, lookup: `n${String(i).padStart(3, "0")}` }));
    await store().replaceAll(userId, fresh);
    const left = await fx.database.db.selectFrom("recovery_codes").select(["id", "lookup"]).where("user_id", "=", userId).execute();
    expect(left.map((r) => r.id).sort()).toEqual(fresh.map((r) => r.id).sort());
    expect(await store().findUnused(userId, "l001")).toBeNull();
    expect(await store().countUnused(other)).toBe(2);
  });

  it("a failing replaceAll (repeated lookup) changes nothing: the old codes stay", async () => {
    const userId = await user();
    const old = rows(userId, 3);
    await store().replaceAll(userId, old);
    const bad = rows(userId, 2).map((r) => ({ ...r, lookup: "same" }));
    await expect(store().replaceAll(userId, bad)).rejects.toThrow();
    expect(await store().countUnused(userId)).toBe(3);
    expect(await store().findUnused(userId, "l002")).toEqual(old[2]);
  });

  it("markUsed is single use: true once, then false; the used code is no longer found", async () => {
    const userId = await user();
    const [r] = rows(userId, 1);
    await store().replaceAll(userId, [r!]);
    expect(await store().markUsed(r!.id, T0 + 7)).toBe(true);
    expect(await store().markUsed(r!.id, T0 + 8)).toBe(false);
    expect(await store().findUnused(userId, r!.lookup)).toBeNull();
    expect(await store().countUnused(userId)).toBe(0);
    const stored = await fx.database.db.selectFrom("recovery_codes").select("used_at").where("id", "=", r!.id).executeTakeFirstOrThrow();
    expect(Number(stored.used_at)).toBe(T0 + 7);
  });

  it("10 concurrent markUsed of one code: exactly one wins", async () => {
    const userId = await user();
    const [r] = rows(userId, 1);
    await store().replaceAll(userId, [r!]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store().markUsed(r!.id, T0 + i)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("10 concurrent uses of one code through the service: exactly one succeeds, audited once", async () => {
    const clock = createManualClock(T0);
    const audit = createAuditLog({ store: fx.stores.audit, clock, random: cryptoRandom });
    const mailed: string[] = [];
    const codes = createRecoveryCodes({
      store: store(),
      hasher,
      random: cryptoRandom,
      clock,
      audit,
      notify: (kind) => mailed.push(kind),
      requireRecentAuth: () => undefined,
      hasPrimaryFactor: async () => true,
    });
    const userId = await user();
    const [code] = await codes.issue(userId);
    const origin = { ip: "203.0.113.5", userAgent: "race" };
    const results = await Promise.all(Array.from({ length: 10 }, () => codes.consume({ id: userId, email: "a@example.test" }, code!, origin)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(mailed).toEqual(["recovery_code_used"]);
    expect(await fx.stores.audit.list({ userId, type: "mfa_recovery_used", limit: 20 })).toHaveLength(1);
    expect(await codes.remaining(userId)).toBe(9);
  });

  it("removeAll deletes every code of the user; deleting the user deletes its codes (cascade)", async () => {
    const userId = await user();
    await store().replaceAll(userId, rows(userId, 4));
    expect(await store().removeAll(userId)).toBe(4);
    expect(await store().countUnused(userId)).toBe(0);
    const gone = await user();
    await store().replaceAll(gone, rows(gone, 2));
    await fx.database.db.deleteFrom("users").where("id", "=", gone).execute();
    const left = await fx.database.db.selectFrom("recovery_codes").select("id").where("user_id", "=", gone).execute();
    expect(left).toEqual([]);
  });
});
