import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/core/crypto/tokens.js";
import type { OAuthTransaction } from "../../src/core/oauth/oauth-transaction-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const MIN = 60_000;

describe.each(backendNames())("OAuthTransactionStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  let n = 0;

  async function user(): Promise<string> {
    const u = newUser(`oauthtx${++n}`);
    await fx.stores.users.insert(u);
    return u.id;
  }

  async function transaction(overrides: Partial<OAuthTransaction> = {}): Promise<OAuthTransaction> {
    const t: OAuthTransaction = {
      id: randomUUID(),
      stateHash: hashToken(randomUUID()),
      bindingHash: hashToken(randomUUID()),
      provider: "google",
      intent: "login",
      nonce: randomUUID().replace(/-/g, ""),
      codeVerifier: `${randomUUID()}${randomUUID()}`.replace(/-/g, ""),
      returnTo: null,
      userId: null,
      sessionHash: null,
      invitationHash: null,
      remember: false,
      createdAt: T0,
      expiresAt: T0 + 10 * MIN,
      ...overrides,
    };
    await fx.stores.oauthTransactions.insert(t);
    return t;
  }

  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("a transaction is returned exactly as stored, once; a second consume finds nothing", async () => {
    const login = await transaction({ returnTo: "/apps/wiki?x=1", invitationHash: hashToken("invite"), remember: true });
    expect(await fx.stores.oauthTransactions.consume(login.stateHash, T0 + MIN)).toEqual(login);
    expect(await fx.stores.oauthTransactions.consume(login.stateHash, T0 + MIN)).toBeNull();
    const link = await transaction({ intent: "link", userId: await user(), sessionHash: hashToken("session"), provider: "github" });
    expect(await fx.stores.oauthTransactions.consume(link.stateHash, T0)).toEqual(link);
    const reauth = await transaction({ intent: "reauth", userId: await user(), sessionHash: hashToken("session2"), returnTo: "/account" });
    expect(await fx.stores.oauthTransactions.consume(reauth.stateHash, T0)).toEqual(reauth);
  });

  it("an unknown state finds nothing and consumes nothing else", async () => {
    const t = await transaction();
    expect(await fx.stores.oauthTransactions.consume(hashToken("never issued"), T0)).toBeNull();
    expect(await fx.stores.oauthTransactions.consume(t.stateHash, T0)).toEqual(t);
  });

  it("attack: a callback replayed after expiry finds nothing (the expiry instant itself is expired)", async () => {
    const t = await transaction();
    expect(await fx.stores.oauthTransactions.consume(t.stateHash, t.expiresAt)).toBeNull();
    expect(await fx.stores.oauthTransactions.consume(t.stateHash, t.expiresAt + MIN)).toBeNull();
    const u = await transaction();
    expect(await fx.stores.oauthTransactions.consume(u.stateHash, u.expiresAt - 1)).toEqual(u);
  });

  it("attack: a replayed state consumed by 10 concurrent callbacks → exactly one winner", async () => {
    const t = await transaction();
    const results = await Promise.all(Array.from({ length: 10 }, () => fx.stores.oauthTransactions.consume(t.stateHash, T0 + MIN)));
    expect(results.filter((r) => r !== null)).toEqual([t]);
    expect(await fx.stores.oauthTransactions.consume(t.stateHash, T0 + MIN)).toBeNull();
  });

  it("a state hash is unique (a second insert of it throws)", async () => {
    const t = await transaction();
    await expect(transaction({ stateHash: t.stateHash })).rejects.toThrow();
  });

  it("deleteExpired removes exactly the expired ones and counts them", async () => {
    const now = T0 + 1_000 * MIN; // later than every other test's transactions
    await fx.stores.oauthTransactions.deleteExpired(now);
    const expired = [await transaction({ expiresAt: now - 1 }), await transaction({ expiresAt: now }), await transaction({ expiresAt: now - 10 * MIN })];
    const live = await transaction({ createdAt: now, expiresAt: now + 1 });
    expect(await fx.stores.oauthTransactions.deleteExpired(now)).toBe(expired.length);
    expect(await fx.stores.oauthTransactions.deleteExpired(now)).toBe(0);
    for (const t of expired) expect(await fx.stores.oauthTransactions.consume(t.stateHash, t.expiresAt - 1)).toBeNull();
    expect(await fx.stores.oauthTransactions.consume(live.stateHash, now)).toEqual(live);
  });

  it("deleting the user deletes its link and reauth transactions", async () => {
    const a = await user();
    const t = await transaction({ intent: "link", userId: a, sessionHash: hashToken("s") });
    expect(await fx.stores.users.delete(a)).toBe(true);
    expect(await fx.stores.oauthTransactions.consume(t.stateHash, T0)).toBeNull();
  });
});
