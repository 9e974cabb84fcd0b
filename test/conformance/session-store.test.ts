import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { newSession, newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;
const MIN = 60_000;
const HOUR = 3_600_000;

describe.each(backendNames())("SessionStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  let n = 0;
  /** A fresh user per test keeps the tests independent on one database. */
  async function user(): Promise<string> {
    const u = newUser(`user${++n}`);
    await fx.stores.users.insert(u);
    return u.id;
  }
  const rowIds = async (userId: string) =>
    (await fx.database.db.selectFrom("sessions").select("id").where("user_id", "=", userId).execute()).map((r) => r.id).sort();

  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("inserts a session and findWithUser returns it joined with its user", async () => {
    const userId = await user();
    const s = newSession(userId, T0, { remember: true, ip: "2001:db8::1", userAgent: "Mozilla/5.0 ünïcode" });
    await fx.stores.sessions.insert(s);
    const found = await fx.stores.sessions.findWithUser(s.tokenHash);
    expect(found?.session).toEqual(s);
    expect(found?.user).toMatchObject({ id: userId, username: `user${n}`, blocked: false, role: "user" });
  });

  it("keeps how the session signed in: aal and amr, in order", async () => {
    const userId = await user();
    const s = newSession(userId, T0, { aal: "aal2", amr: ["pwd", "otp"] });
    await fx.stores.sessions.insert(s);
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.session).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    expect((await fx.stores.sessions.listForUser(userId, 10, 0))[0]).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
  });

  it("findWithUser answers null for an unknown token hash", async () => {
    expect(await fx.stores.sessions.findWithUser("0".repeat(64))).toBeNull();
  });

  it("touch records the new last-seen time and nothing else", async () => {
    const userId = await user();
    const s = newSession(userId, T0);
    await fx.stores.sessions.insert(s);
    await fx.stores.sessions.touch(s.id, T0 + 5 * MIN);
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.session).toEqual({ ...s, lastSeenAt: T0 + 5 * MIN });
  });

  it("delete by id answers true once, then false", async () => {
    const userId = await user();
    const s = newSession(userId, T0);
    await fx.stores.sessions.insert(s);
    expect(await fx.stores.sessions.delete(s.id)).toBe(true);
    expect(await fx.stores.sessions.findWithUser(s.tokenHash)).toBeNull();
    expect(await fx.stores.sessions.delete(s.id)).toBe(false);
  });

  it("delete scoped to a userId refuses someone else's session and deletes the owner's", async () => {
    const owner = await user();
    const stranger = await user();
    const s = newSession(owner, T0);
    await fx.stores.sessions.insert(s);
    expect(await fx.stores.sessions.delete(s.id, stranger)).toBe(false);
    expect(await fx.stores.sessions.findWithUser(s.tokenHash)).not.toBeNull();
    expect(await fx.stores.sessions.delete(s.id, owner)).toBe(true);
    expect(await fx.stores.sessions.findWithUser(s.tokenHash)).toBeNull();
  });

  it("deleteAllForUser deletes and returns every session id of that user only", async () => {
    const userId = await user();
    const other = await user();
    const mine = [newSession(userId, T0), newSession(userId, T0 + 1), newSession(userId, T0 + 2)];
    const theirs = newSession(other, T0);
    for (const s of [...mine, theirs]) await fx.stores.sessions.insert(s);
    const ids = await fx.stores.sessions.deleteAllForUser(userId);
    expect([...ids].sort()).toEqual(mine.map((s) => s.id).sort());
    expect(await rowIds(userId)).toEqual([]);
    expect(await rowIds(other)).toEqual([theirs.id]);
  });

  it("deleteAllForUser keeps the excepted session and does not report it", async () => {
    const userId = await user();
    const [keep, a, b] = [newSession(userId, T0), newSession(userId, T0 + 1), newSession(userId, T0 + 2)];
    for (const s of [keep, a, b]) await fx.stores.sessions.insert(s);
    const ids = await fx.stores.sessions.deleteAllForUser(userId, keep.id);
    expect([...ids].sort()).toEqual([a.id, b.id].sort());
    expect(await rowIds(userId)).toEqual([keep.id]);
  });

  it("deleteAllForUser answers an empty list when there is nothing to delete", async () => {
    expect(await fx.stores.sessions.deleteAllForUser(await user())).toEqual([]);
  });

  it("listForUser returns the user's sessions newest first, paginated by limit and offset", async () => {
    const userId = await user();
    const other = await user();
    const created = [3, 1, 5, 2, 4].map((k) => newSession(userId, T0 + k * MIN));
    for (const s of created) await fx.stores.sessions.insert(s);
    await fx.stores.sessions.insert(newSession(other, T0 + 9 * MIN));
    const byAge = [...created].sort((x, y) => y.createdAt - x.createdAt).map((s) => s.id);

    const all = await fx.stores.sessions.listForUser(userId, 10, 0);
    expect(all.map((s) => s.id)).toEqual(byAge);
    expect(all[0]).toEqual(created[2]);
    expect((await fx.stores.sessions.listForUser(userId, 2, 0)).map((s) => s.id)).toEqual(byAge.slice(0, 2));
    expect((await fx.stores.sessions.listForUser(userId, 2, 2)).map((s) => s.id)).toEqual(byAge.slice(2, 4));
    expect((await fx.stores.sessions.listForUser(userId, 2, 4)).map((s) => s.id)).toEqual(byAge.slice(4));
    expect(await fx.stores.sessions.listForUser(userId, 2, 5)).toEqual([]);
  });

  it("deleteExpired removes absolute-expired sessions, and idle ones only when not 'remember me'", async () => {
    const userId = await user();
    // deleteExpired is table-wide: `now` is chosen so that the other tests' rows (created from T0 on,
    // 12 h lifetime) are neither idle nor expired, and only this test's rows can be counted.
    const now = T0 + 10 * MIN;
    const idleMs = 30 * MIN;
    const rows = {
      absolute: newSession(userId, now - 6 * HOUR, { expiresAt: now - 1, lastSeenAt: now - MIN }),
      absoluteAtNow: newSession(userId, now - 6 * HOUR, { expiresAt: now, lastSeenAt: now - MIN }),
      absoluteRemember: newSession(userId, now - 6 * HOUR, { expiresAt: now - 1, lastSeenAt: now - MIN, remember: true }),
      idle: newSession(userId, now - 6 * HOUR, { expiresAt: now + HOUR, lastSeenAt: now - idleMs - 1 }),
      idleAtLimit: newSession(userId, now - 6 * HOUR, { expiresAt: now + HOUR, lastSeenAt: now - idleMs }),
      idleRemember: newSession(userId, now - 6 * HOUR, { expiresAt: now + HOUR, lastSeenAt: now - 10 * idleMs, remember: true }),
      active: newSession(userId, now - 6 * HOUR, { expiresAt: now + HOUR, lastSeenAt: now - idleMs + 1 }),
    };
    for (const s of Object.values(rows)) await fx.stores.sessions.insert(s);

    expect(await fx.stores.sessions.deleteExpired(now, idleMs)).toBe(5);
    expect(await rowIds(userId)).toEqual([rows.idleRemember.id, rows.active.id].sort());
    expect(await fx.stores.sessions.deleteExpired(now, idleMs)).toBe(0);
  });

  it("refuses a second session with the same token hash", async () => {
    const userId = await user();
    const first = newSession(userId, T0);
    await fx.stores.sessions.insert(first);
    await expect(fx.stores.sessions.insert(newSession(userId, T0, { tokenHash: first.tokenHash }))).rejects.toThrow();
    expect(await rowIds(userId)).toEqual([first.id]);
  });

  it("a change to the user's row (role, block, password) is in the very next lookup", async () => {
    const userId = await user();
    const s = newSession(userId, T0);
    await fx.stores.sessions.insert(s);
    const before = await fx.stores.sessions.findWithUser(s.tokenHash);
    expect(before?.user).toMatchObject({ role: "user", blocked: false });
    // Same row again: the same answer.
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user).toEqual(before?.user);
    await fx.stores.users.update(userId, { role: "admin" }, T0);
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user.role).toBe("admin");
    await fx.stores.users.update(userId, { blocked: true }, T0);
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user.blocked).toBe(true);
    // Written behind the store's back, updated_at untouched (an operator's SQL): still seen.
    await fx.database.db.updateTable("users").set({ role: "user", blocked: 0 }).where("id", "=", userId).execute();
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user).toMatchObject({ role: "user", blocked: false });
    const newHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaG5ld2g";
    await fx.stores.users.updatePasswordHash(userId, newHash, T0);
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user.passwordHash).toBe(newHash);
  });

  it("the synchronous lookup, where the store has one, answers exactly as findWithUser and sees a delete at once", async () => {
    const now = fx.stores.sessions.findWithUserNow?.bind(fx.stores.sessions);
    // SQLite reads synchronously; PostgreSQL has no such path and the session check awaits findWithUser.
    expect(now !== undefined).toBe(backendName === "sqlite");
    if (now === undefined) return;
    const userId = await user();
    const s = newSession(userId, T0, { remember: true, reauthAt: null });
    await fx.stores.sessions.insert(s);
    expect(now(s.tokenHash)).toEqual(await fx.stores.sessions.findWithUser(s.tokenHash));
    await fx.stores.users.update(userId, { role: "superadmin" }, T0 + 1);
    expect(now(s.tokenHash)?.user.role).toBe("superadmin");
    await fx.stores.sessions.touch(s.id, T0 + MIN);
    expect(now(s.tokenHash)?.session.lastSeenAt).toBe(T0 + MIN);
    await fx.stores.sessions.delete(s.id);
    expect(now(s.tokenHash)).toBeNull();
    expect(now("0".repeat(64))).toBeNull();
  });

  it("a lookup during an open transaction never reads its uncommitted writes", async () => {
    const userId = await user();
    const s = newSession(userId, T0);
    await fx.stores.sessions.insert(s);
    let during: unknown = "not read";
    let pending: Promise<unknown> | undefined;
    await expect(
      fx.database.db.transaction().execute(async (trx) => {
        await trx.updateTable("users").set({ role: "superadmin" }).where("id", "=", userId).execute();
        // SQLite: one connection, held by the transaction — the synchronous path declines, the
        // awaited one waits for the transaction's end. PostgreSQL: another pooled connection.
        during = fx.stores.sessions.findWithUserNow?.(s.tokenHash);
        pending = fx.stores.sessions.findWithUser(s.tokenHash);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(during).toBeUndefined();
    expect(await pending).toMatchObject({ user: { role: "user" } });
    expect((await fx.stores.sessions.findWithUser(s.tokenHash))?.user.role).toBe("user");
  });
});
