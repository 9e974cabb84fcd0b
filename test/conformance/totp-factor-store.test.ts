import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
// A realistic step (30 s steps since 1970): beyond 2^31, as real ones will be in 2038.
const STEP = Math.floor(T0 / 30_000);
let seq = 0;

describe.each(backendNames())("TotpFactorStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  const store = () => fx.stores.totpFactors;
  async function user(): Promise<string> {
    const u = newUser(`totpholder${++seq}`);
    await fx.stores.users.insert(u);
    return u.id;
  }

  it("ensure inserts an unconfirmed row once; a second ensure leaves it (and a confirmation) as it is", async () => {
    const id = await user();
    expect(await store().find(id)).toBeNull();
    await store().ensure(id, T0);
    expect(await store().find(id)).toEqual({ userId: id, confirmedAt: null, lastUsedStep: 0, createdAt: T0, updatedAt: T0 });
    await store().confirm(id, T0 + 5);
    await store().ensure(id, T0 + 9);
    expect(await store().find(id)).toEqual({ userId: id, confirmedAt: T0 + 5, lastUsedStep: 0, createdAt: T0, updatedAt: T0 + 5 });
  });

  it("confirm keeps the first confirmation's time", async () => {
    const id = await user();
    await store().ensure(id, T0);
    await store().confirm(id, T0 + 1);
    await store().confirm(id, T0 + 2);
    expect(await store().find(id)).toMatchObject({ confirmedAt: T0 + 1, updatedAt: T0 + 2 });
  });

  it("useStep only moves forward: a later step is taken once; the same or an earlier step is refused", async () => {
    const id = await user();
    await store().ensure(id, T0);
    expect(await store().useStep(id, STEP + 1, T0 + 1)).toBe(true);
    expect(await store().useStep(id, STEP + 1, T0 + 2)).toBe(false);
    expect(await store().useStep(id, STEP, T0 + 3)).toBe(false);
    expect(await store().find(id)).toMatchObject({ lastUsedStep: STEP + 1, updatedAt: T0 + 1 });
    expect(await store().useStep(id, STEP + 2, T0 + 4)).toBe(true);
    expect((await store().find(id))?.lastUsedStep).toBe(STEP + 2);
    expect(await store().useStep(await user(), STEP + 9, T0)).toBe(false);
  });

  it("attack: replay race — ten concurrent uses of one step: exactly one wins", async () => {
    const id = await user();
    await store().ensure(id, T0);
    const results = await Promise.all(Array.from({ length: 10 }, () => store().useStep(id, STEP, T0)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("remove deletes the row (true once); deleting the user deletes it too", async () => {
    const id = await user();
    await store().ensure(id, T0);
    expect(await store().remove(id)).toBe(true);
    expect(await store().remove(id)).toBe(false);
    const other = await user();
    await store().ensure(other, T0);
    await fx.stores.users.delete(other);
    expect(await store().find(other)).toBeNull();
  });
});
