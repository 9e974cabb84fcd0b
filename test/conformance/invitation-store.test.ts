import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/core/crypto/tokens.js";
import type { NewInvitation } from "../../src/core/invitations/invitation-store.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const DAY = 86_400_000;
let seq = 0;

function invitation(overrides: Partial<NewInvitation> = {}): NewInvitation {
  const n = ++seq;
  return {
    id: randomUUID(),
    tokenHash: hashToken(`token-${n}-${randomUUID()}`),
    email: `Guest${n}@Example.test`,
    emailNormalized: `guest${n}@example.test`,
    role: "user",
    createdBy: null,
    createdAt: T0 + n,
    expiresAt: T0 + 7 * DAY,
    usedAt: null,
    usedBy: null,
    revokedAt: null,
    ...overrides,
  };
}

const strip = ({ tokenHash: _omit, ...rest }: NewInvitation) => rest;

describe.each(backendNames())("InvitationStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  const store = () => fx.stores.invitations;

  it("inserts an invitation with its mail in one transaction and reads it back with every field mapped", async () => {
    const admin = newUser(`inviter${++seq}`);
    await fx.stores.users.insert(admin);
    const inv = invitation({ createdBy: admin.id, role: "admin" });
    const mailId = randomUUID();
    await store().insert(inv, [{ id: mailId, kind: "invitation", payload: "sealed", createdAt: T0 }]);
    expect(await store().findById(inv.id)).toEqual(strip(inv));
    expect(await store().findPending(inv.tokenHash, T0)).toEqual(strip(inv));
    const mail = await fx.database.db.selectFrom("mail_outbox").select(["id", "kind"]).where("id", "=", mailId).executeTakeFirst();
    expect(mail).toEqual({ id: mailId, kind: "invitation" });
  });

  it("a refused insert (duplicate token hash) writes no mail either", async () => {
    const first = invitation();
    await store().insert(first, []);
    const mailId = randomUUID();
    await expect(store().insert(invitation({ tokenHash: first.tokenHash }), [{ id: mailId, kind: "invitation", payload: "sealed", createdAt: T0 }])).rejects.toThrow();
    expect(await fx.database.db.selectFrom("mail_outbox").select("id").where("id", "=", mailId).executeTakeFirst()).toBeUndefined();
  });

  it("consume is single use: of two concurrent uses exactly one gets the invitation", async () => {
    const inv = invitation();
    await store().insert(inv, []);
    const results = await Promise.all([store().consume(inv.tokenHash, T0 + 10), store().consume(inv.tokenHash, T0 + 10)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(results.find((r) => r !== null)?.usedAt).toBe(T0 + 10);
    expect(await store().findPending(inv.tokenHash, T0 + 11)).toBeNull();
    expect(await store().consume(inv.tokenHash, T0 + 12)).toBeNull();
  });

  it("an expired or revoked invitation is neither pending nor consumable; revoke works only on pending ones", async () => {
    const expiring = invitation({ expiresAt: T0 + 100 });
    await store().insert(expiring, []);
    expect(await store().findPending(expiring.tokenHash, T0 + 100)).toBeNull();
    expect(await store().consume(expiring.tokenHash, T0 + 100)).toBeNull();
    expect(await store().revoke(expiring.id, T0 + 100)).toBeNull();

    const revoked = invitation();
    await store().insert(revoked, []);
    expect((await store().revoke(revoked.id, T0 + 5))?.revokedAt).toBe(T0 + 5);
    expect(await store().revoke(revoked.id, T0 + 6)).toBeNull();
    expect(await store().findPending(revoked.tokenHash, T0 + 6)).toBeNull();
    expect(await store().consume(revoked.tokenHash, T0 + 6)).toBeNull();
    expect(await store().revoke(randomUUID(), T0)).toBeNull();
  });

  it("release gives a consumed invitation back; once an account is recorded it stays used", async () => {
    const inv = invitation();
    await store().insert(inv, []);
    const used = await store().consume(inv.tokenHash, T0 + 1);
    expect(used).not.toBeNull();
    await store().release(inv.id);
    expect(await store().findPending(inv.tokenHash, T0 + 2)).not.toBeNull();
    await store().consume(inv.tokenHash, T0 + 3);
    const user = newUser(`invitee${++seq}`);
    await fx.stores.users.insert(user);
    await store().setUsedBy(inv.id, user.id);
    await store().release(inv.id);
    expect(await store().findById(inv.id)).toMatchObject({ usedAt: T0 + 3, usedBy: user.id });
  });

  it("deleting the inviter or the invited account keeps the invitation (the reference becomes null)", async () => {
    const admin = newUser(`gone${++seq}`);
    const invitee = newUser(`gonetoo${++seq}`);
    await fx.stores.users.insert(admin);
    await fx.stores.users.insert(invitee);
    const inv = invitation({ createdBy: admin.id });
    await store().insert(inv, []);
    await store().consume(inv.tokenHash, T0 + 1);
    await store().setUsedBy(inv.id, invitee.id);
    await fx.stores.users.delete(admin.id);
    await fx.stores.users.delete(invitee.id);
    expect(await store().findById(inv.id)).toMatchObject({ createdBy: null, usedBy: null, usedAt: T0 + 1 });
  });

  it("lists newest first, at most `limit`", async () => {
    const a = invitation({ createdAt: T0 + 50 * DAY });
    const b = invitation({ createdAt: T0 + 51 * DAY });
    await store().insert(a, []);
    await store().insert(b, []);
    const list = await store().list(2);
    expect(list.map((i) => i.id)).toEqual([b.id, a.id]);
  });

  it("stores only the SHA-256 of the token", async () => {
    const token = `plain-${randomUUID()}`;
    const inv = invitation({ tokenHash: hashToken(token) });
    await store().insert(inv, []);
    const row = await fx.database.db.selectFrom("invitations").selectAll().where("id", "=", inv.id).executeTakeFirstOrThrow();
    expect(Object.values(row).map(String).some((v) => v.includes(token))).toBe(false);
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
