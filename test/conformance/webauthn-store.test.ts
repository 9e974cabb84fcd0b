import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/core/crypto/tokens.js";
import type { ChallengeRecord, PasskeyRecord } from "../../src/core/mfa/webauthn/webauthn-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const MIN = 60_000;

describe.each(backendNames())("WebAuthnStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  let n = 0;

  async function user(): Promise<string> {
    const u = newUser(`webauthn${++n}`);
    await fx.stores.users.insert(u);
    return u.id;
  }

  async function passkey(userId: string, overrides: Partial<PasskeyRecord> = {}): Promise<PasskeyRecord> {
    const record: PasskeyRecord = {
      id: randomUUID(),
      userId,
      credentialId: Buffer.from(randomUUID()).toString("base64url"),
      publicKey: "pQECAyYgASFY",
      counter: 5,
      transports: ["internal", "hybrid"],
      deviceType: "multiDevice",
      backedUp: true,
      name: "Téléphone",
      createdAt: T0 + n,
      lastUsedAt: null,
      ...overrides,
    };
    await fx.stores.webauthn.insertCredential(record);
    return record;
  }

  async function challenge(overrides: Partial<ChallengeRecord> = {}): Promise<ChallengeRecord> {
    const record: ChallengeRecord = {
      id: randomUUID(),
      challengeHash: hashToken(randomUUID()),
      purpose: "passwordless",
      userId: null,
      bindingHash: hashToken("binding"),
      createdAt: T0,
      expiresAt: T0 + 5 * MIN,
      ...overrides,
    };
    await fx.stores.webauthn.insertChallenge(record);
    return record;
  }

  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("stores a passkey as given, lists a user's own, finds by credential id; the credential id is unique", async () => {
    const a = await user();
    const p = await passkey(a);
    expect(await fx.stores.webauthn.findByCredentialId(p.credentialId)).toEqual(p);
    expect(await fx.stores.webauthn.listByUser(a)).toEqual([p]);
    expect(await fx.stores.webauthn.hasAny(a)).toBe(true);
    expect(await fx.stores.webauthn.hasAny(await user())).toBe(false);
    await expect(passkey(await user(), { credentialId: p.credentialId })).rejects.toThrow();
  });

  it("rename and delete touch only the owner's passkey", async () => {
    const [a, b] = [await user(), await user()];
    const p = await passkey(a);
    expect(await fx.stores.webauthn.rename(b, p.id, "stolen")).toBe(false);
    expect(await fx.stores.webauthn.delete(b, p.id)).toBe(false);
    expect(await fx.stores.webauthn.rename(a, p.id, "Laptop")).toBe(true);
    expect((await fx.stores.webauthn.listByUser(a))[0]?.name).toBe("Laptop");
    expect(await fx.stores.webauthn.delete(a, p.id)).toBe(true);
    expect(await fx.stores.webauthn.listByUser(a)).toEqual([]);
  });

  it("recordUse moves the counter forward only (0 may stay 0); deleting the user deletes its passkeys", async () => {
    const a = await user();
    const p = await passkey(a, { counter: 10 });
    expect(await fx.stores.webauthn.recordUse(p.id, 9, false, T0 + 1)).toBe(false);
    expect(await fx.stores.webauthn.recordUse(p.id, 10, false, T0 + 1)).toBe(false);
    expect(await fx.stores.webauthn.recordUse(p.id, 11, false, T0 + 2)).toBe(true);
    expect(await fx.stores.webauthn.findByCredentialId(p.credentialId)).toMatchObject({ counter: 11, backedUp: false, lastUsedAt: T0 + 2 });
    const zero = await passkey(a, { counter: 0 });
    expect(await fx.stores.webauthn.recordUse(zero.id, 0, true, T0 + 3)).toBe(true);
    expect(await fx.stores.webauthn.recordUse(zero.id, 0, true, T0 + 4)).toBe(true);
    await fx.stores.users.delete(a);
    expect(await fx.stores.webauthn.findByCredentialId(p.credentialId)).toBeNull();
  });

  it("a challenge is consumed once, only for its purpose and binding, and not once expired", async () => {
    const c = await challenge();
    expect(await fx.stores.webauthn.consumeChallenge(c.challengeHash, "register", c.bindingHash, T0)).toBeNull();
    expect(await fx.stores.webauthn.consumeChallenge(c.challengeHash, c.purpose, hashToken("other"), T0)).toBeNull();
    expect(await fx.stores.webauthn.consumeChallenge(c.challengeHash, c.purpose, c.bindingHash, T0 + 5 * MIN)).toBeNull();
    expect(await fx.stores.webauthn.consumeChallenge(c.challengeHash, c.purpose, c.bindingHash, T0 + 5 * MIN - 1)).toEqual(c);
    expect(await fx.stores.webauthn.consumeChallenge(c.challengeHash, c.purpose, c.bindingHash, T0)).toBeNull();
  });

  it("of concurrent consumers of one challenge, exactly one gets it", async () => {
    const c = await challenge();
    const results = await Promise.all(Array.from({ length: 8 }, () => fx.stores.webauthn.consumeChallenge(c.challengeHash, c.purpose, c.bindingHash, T0)));
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it("deleteExpiredChallenges removes only expired ones", async () => {
    const old = await challenge({ expiresAt: T0 - 1 });
    const live = await challenge({ expiresAt: T0 + MIN });
    expect(await fx.stores.webauthn.deleteExpiredChallenges(T0)).toBeGreaterThanOrEqual(1);
    expect(await fx.stores.webauthn.consumeChallenge(old.challengeHash, old.purpose, old.bindingHash, T0 - 2)).toBeNull();
    expect(await fx.stores.webauthn.consumeChallenge(live.challengeHash, live.purpose, live.bindingHash, T0)).toEqual(live);
  });
});
