import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExternalIdentity } from "../../src/core/oauth/external-identity-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const GOOGLE = "https://accounts.google.com";
const CORP = "https://sso.corp.example/realms/main";

describe.each(backendNames())("ExternalIdentityStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  let n = 0;

  async function user(): Promise<string> {
    const u = newUser(`extid${++n}`);
    await fx.stores.users.insert(u);
    return u.id;
  }

  function identity(userId: string, overrides: Partial<ExternalIdentity> = {}): ExternalIdentity {
    return {
      id: randomUUID(),
      userId,
      provider: "google",
      issuer: GOOGLE,
      subject: `sub-${randomUUID()}`,
      email: "Someone@Example.test",
      createdAt: T0 + ++n,
      lastUsedAt: null,
      ...overrides,
    };
  }

  async function linked(userId: string, overrides: Partial<ExternalIdentity> = {}): Promise<ExternalIdentity> {
    const x = identity(userId, overrides);
    expect(await fx.stores.externalIdentities.insert(x)).toEqual({ ok: true });
    return x;
  }

  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("stores an identity as given and finds it by (issuer, subject) only", async () => {
    const a = await user();
    const x = await linked(a, { email: null, lastUsedAt: T0 + 5 });
    expect(await fx.stores.externalIdentities.findBySubject(GOOGLE, x.subject)).toEqual(x);
    expect(await fx.stores.externalIdentities.findBySubject(CORP, x.subject)).toBeNull();
    expect(await fx.stores.externalIdentities.findBySubject(GOOGLE, `${x.subject}x`)).toBeNull();
    expect(await fx.stores.externalIdentities.findBySubject(GOOGLE, x.subject.toUpperCase())).toBeNull();
  });

  it("lists a user's own identities, oldest first (ties by id)", async () => {
    const [a, b] = [await user(), await user()];
    const later = await linked(a, { provider: "github", issuer: "https://github.com", createdAt: T0 + 1000 });
    const earlier = await linked(a, { provider: "corp", issuer: CORP, createdAt: T0 + 10 });
    const first = await linked(a, { provider: "google", createdAt: T0 + 10 });
    await linked(b);
    const tied = [earlier, first].sort((p, q) => (p.id < q.id ? -1 : 1));
    expect(await fx.stores.externalIdentities.listByUser(a)).toEqual([...tied, later]);
    expect(await fx.stores.externalIdentities.listByUser(await user())).toEqual([]);
  });

  it("recordUse sets the email the provider gave (or none) and the time", async () => {
    const a = await user();
    const x = await linked(a);
    await fx.stores.externalIdentities.recordUse(x.id, "new@example.test", T0 + 60_000);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toEqual({ ...x, email: "new@example.test", lastUsedAt: T0 + 60_000 });
    await fx.stores.externalIdentities.recordUse(x.id, null, T0 + 120_000);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toEqual({ ...x, email: null, lastUsedAt: T0 + 120_000 });
  });

  it("attack: unlinking another user's identity by its id → false, and it stays linked", async () => {
    const [a, b] = [await user(), await user()];
    const x = await linked(a);
    expect(await fx.stores.externalIdentities.delete(b, x.id)).toBe(false);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toEqual(x);
    expect(await fx.stores.externalIdentities.delete(a, randomUUID())).toBe(false);
    expect(await fx.stores.externalIdentities.delete(a, x.id)).toBe(true);
    expect(await fx.stores.externalIdentities.delete(a, x.id)).toBe(false);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toBeNull();
    expect(await fx.stores.externalIdentities.listByUser(a)).toEqual([]);
  });

  it("attack: linking an (issuer, subject) already linked, to another account or the same one → identity_taken", async () => {
    const [a, b] = [await user(), await user()];
    const x = await linked(a);
    expect(await fx.stores.externalIdentities.insert(identity(b, { subject: x.subject }))).toEqual({ ok: false, conflict: "identity_taken" });
    // Another provider id configured with the same issuer: still the same identity.
    expect(await fx.stores.externalIdentities.insert(identity(b, { provider: "google-2", subject: x.subject }))).toEqual({ ok: false, conflict: "identity_taken" });
    expect(await fx.stores.externalIdentities.insert(identity(a, { provider: "other", subject: x.subject }))).toEqual({ ok: false, conflict: "identity_taken" });
    expect(await fx.stores.externalIdentities.listByUser(b)).toEqual([]);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toEqual(x);
  });

  it("a second identity of one provider for one account → provider_already_linked; another account may link that provider", async () => {
    const [a, b] = [await user(), await user()];
    const x = await linked(a);
    expect(await fx.stores.externalIdentities.insert(identity(a, { provider: x.provider }))).toEqual({ ok: false, conflict: "provider_already_linked" });
    expect(await fx.stores.externalIdentities.listByUser(a)).toEqual([x]);
    await linked(b, { provider: x.provider });
  });

  it("the same subject under another issuer is a different identity", async () => {
    const [a, b] = [await user(), await user()];
    const x = await linked(a, { provider: "google", issuer: GOOGLE, subject: "1045" + String(n) });
    const y = await linked(b, { provider: "corp", issuer: CORP, subject: x.subject });
    expect(await fx.stores.externalIdentities.findBySubject(GOOGLE, x.subject)).toEqual(x);
    expect(await fx.stores.externalIdentities.findBySubject(CORP, x.subject)).toEqual(y);
  });

  it("of concurrent links of one (issuer, subject) to different accounts, exactly one succeeds; the others get identity_taken", async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => user()));
    const subject = `race-${randomUUID()}`;
    const results = await Promise.all(users.map((u) => fx.stores.externalIdentities.insert(identity(u, { subject }))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, conflict: "identity_taken" })));
  });

  it("a duplicate id is not mistaken for a conflict (it throws)", async () => {
    const a = await user();
    const x = await linked(a);
    await expect(fx.stores.externalIdentities.insert(identity(await user(), { id: x.id }))).rejects.toThrow();
  });

  it("deleting the user deletes its identities, and frees the (issuer, subject) for another account", async () => {
    const [a, b] = [await user(), await user()];
    const x = await linked(a);
    const y = await linked(a, { provider: "corp", issuer: CORP });
    expect(await fx.stores.users.delete(a)).toBe(true);
    expect(await fx.stores.externalIdentities.findBySubject(x.issuer, x.subject)).toBeNull();
    expect(await fx.stores.externalIdentities.findBySubject(y.issuer, y.subject)).toBeNull();
    expect(await fx.stores.externalIdentities.listByUser(a)).toEqual([]);
    await linked(b, { subject: x.subject });
  });
});
