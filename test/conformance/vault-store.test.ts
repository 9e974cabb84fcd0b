import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserVaultSecretRow, VaultSecretRow } from "../../src/core/vault/vault-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
let seq = 0;
const envelope = () => `v1.k0.${randomBytes(12).toString("base64url")}.${randomBytes(36).toString("base64url")}`;

describe.each(backendNames())("VaultStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  const store = () => fx.stores.vault;
  async function user(): Promise<string> {
    const u = newUser(`keyholder${++seq}`);
    await fx.stores.users.insert(u);
    return u.id;
  }

  it("operator secrets: insert, replace (created_at kept, true only when new), list by name, remove", async () => {
    const a: VaultSecretRow = { name: "zeta", envelope: envelope(), prefix: "sk-z", createdAt: T0, updatedAt: T0, updatedBy: randomUUID() };
    const b: VaultSecretRow = { name: "alpha", envelope: envelope(), prefix: null, createdAt: T0 + 1, updatedAt: T0 + 1, updatedBy: null };
    expect(await store().put(a)).toBe(true);
    expect(await store().put(b)).toBe(true);
    expect(await store().find("zeta")).toEqual(a);
    const replaced = { ...a, envelope: envelope(), prefix: null, createdAt: T0 + 50, updatedAt: T0 + 50, updatedBy: null };
    expect(await store().put(replaced)).toBe(false);
    expect(await store().find("zeta")).toEqual({ ...replaced, createdAt: T0 });
    expect((await store().list()).map((r) => r.name)).toEqual(["alpha", "zeta"]);
    expect(await store().remove("alpha")).toBe(true);
    expect(await store().remove("alpha")).toBe(false);
    expect(await store().find("alpha")).toBeNull();
  });

  it("users' keys: one per (user, name), kept apart between users, replaced in place, deleted with the user", async () => {
    const [u1, u2] = [await user(), await user()];
    const row = (userId: string, name: string, at = T0): UserVaultSecretRow => ({ id: randomUUID(), userId, name, envelope: envelope(), prefix: "abcd", createdAt: at, updatedAt: at });
    const first = row(u1, "anthropic");
    expect(await store().putForUser(first)).toBe(true);
    expect(await store().putForUser(row(u2, "anthropic"))).toBe(true);
    const again = row(u1, "anthropic", T0 + 9);
    expect(await store().putForUser(again)).toBe(false);
    expect(await store().findForUser(u1, "anthropic")).toEqual({ ...again, id: first.id, createdAt: T0 });
    expect(await store().findForUser(u1, "openai")).toBeNull();
    expect((await store().listForUser(u2)).map((r) => r.userId)).toEqual([u2]);
    expect(await store().removeForUser(u2, "anthropic")).toBe(true);
    expect(await store().removeForUser(u2, "anthropic")).toBe(false);
    expect(await store().findForUser(u1, "anthropic")).not.toBeNull();
    await fx.stores.users.delete(u1);
    expect(await store().listForUser(u1)).toEqual([]);
  });
});
