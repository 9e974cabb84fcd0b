import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { createUserSecrets } from "../../src/core/secrets/user-secrets.js";
import type { UserSecretRow } from "../../src/core/secrets/user-secret-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
let seq = 0;

describe.each(backendNames())("UserSecretStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  const store = () => fx.stores.userSecrets;
  async function user(): Promise<string> {
    const u = newUser(`secretholder${++seq}`);
    await fx.stores.users.insert(u);
    return u.id;
  }
  const row = (userId: string, overrides: Partial<UserSecretRow> = {}): UserSecretRow => ({
    id: randomUUID(), userId, kind: "totp", envelope: `v1.k0.${randomBytes(12).toString("base64url")}.${randomBytes(36).toString("base64url")}`, createdAt: T0, updatedAt: T0, ...overrides,
  });

  it("stores and reads back a row with every field mapped", async () => {
    const r = row(await user());
    expect(await store().put(r)).toEqual(r);
    expect(await store().find(r.userId, "totp")).toEqual(r);
    expect(await store().find(r.userId, "webauthn")).toBeNull();
    expect(await store().find(randomUUID(), "totp")).toBeNull();
  });

  it("one row per (user, kind): a second put replaces the envelope, keeps the first id and created_at", async () => {
    const userId = await user();
    const first = await store().put(row(userId));
    const second = await store().put(row(userId, { createdAt: T0 + 5, updatedAt: T0 + 5 }));
    expect(second).toEqual({ ...first, envelope: second.envelope, updatedAt: T0 + 5 });
    expect(second.envelope).not.toBe(first.envelope);
    const count = await fx.database.db.selectFrom("user_secrets").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    const other = await store().put(row(userId, { kind: "recovery" }));
    expect(other.kind).toBe("recovery");
    expect((await store().find(userId, "totp"))?.envelope).toBe(second.envelope);
  });

  it("replaceEnvelope is compare-and-set: only from the expected envelope", async () => {
    const r = await store().put(row(await user()));
    expect(await store().replaceEnvelope(r.userId, "totp", "v1.k0.stale.stale", "v1.k1.x.y", T0 + 9)).toBe(false);
    expect((await store().find(r.userId, "totp"))?.envelope).toBe(r.envelope);
    expect(await store().replaceEnvelope(r.userId, "totp", r.envelope, "v1.k1.x.y", T0 + 9)).toBe(true);
    expect(await store().find(r.userId, "totp")).toMatchObject({ envelope: "v1.k1.x.y", updatedAt: T0 + 9, createdAt: T0 });
    expect(await store().replaceEnvelope(r.userId, "totp", r.envelope, "v1.k2.x.y", T0 + 10)).toBe(false);
  });

  it("remove deletes one row; deleting the user deletes their secrets", async () => {
    const userId = await user();
    await store().put(row(userId));
    await store().put(row(userId, { kind: "recovery" }));
    expect(await store().remove(userId, "totp")).toBe(true);
    expect(await store().remove(userId, "totp")).toBe(false);
    expect(await store().find(userId, "recovery")).not.toBeNull();
    await fx.database.db.deleteFrom("users").where("id", "=", userId).execute();
    expect(await store().find(userId, "recovery")).toBeNull();
  });

  it("a secret for a user that does not exist is refused (foreign key)", async () => {
    await expect(store().put(row(randomUUID()))).rejects.toThrow();
  });

  it("UserSecrets over the store: round trip; the row holds only the envelope under the active key", async () => {
    const keys = createKeyring("k0", [{ id: "k0", key: randomBytes(32) }]);
    const secrets = createUserSecrets({ store: store(), box: createSecretBox({ current: () => keys }, cryptoRandom), clock: systemClock, random: cryptoRandom });
    const userId = await user();
    const plaintext = `seed-${randomBytes(10).toString("hex")}`;
    await secrets.set(userId, "totp", plaintext);
    expect(await secrets.get(userId, "totp")).toBe(plaintext);
    expect(await secrets.get(userId, "recovery")).toBeNull();
    const stored = await fx.database.db.selectFrom("user_secrets").selectAll().where("user_id", "=", userId).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(plaintext);
    expect(envelopeKeyId(stored.secret_envelope)).toBe("k0");
    expect(await secrets.remove(userId, "totp")).toBe(true);
    expect(await secrets.get(userId, "totp")).toBeNull();
    await expect(secrets.set(userId, "TOTP!", plaintext)).rejects.toThrow(/kind/);
  });
});
