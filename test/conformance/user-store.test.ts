import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { newSession, newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

describe.each(backendNames())("UserStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  it("inserts a user and reads it back by id with every field mapped", async () => {
    const input = newUser("Alice");
    expect(await fx.stores.users.insert(input)).toEqual({ ok: true });
    expect(await fx.stores.users.findById(input.id)).toEqual({
      id: input.id,
      username: "Alice",
      email: "Alice@Example.test",
      emailVerified: false,
      passwordHash: input.passwordHash,
      role: "user",
      blocked: false,
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
      lastLoginAt: null,
    });
  });

  it("answers null for an unknown id", async () => {
    expect(await fx.stores.users.findById("00000000-0000-4000-8000-000000000000")).toBeNull();
  });

  it("finds a user by normalized username and by normalized email; the store itself does not normalize", async () => {
    const input = newUser("Bob");
    await fx.stores.users.insert(input);
    expect((await fx.stores.users.findByLogin({ username: "bob" }))?.id).toBe(input.id);
    expect((await fx.stores.users.findByLogin({ email: "bob@example.test" }))?.id).toBe(input.id);
    expect(await fx.stores.users.findByLogin({ username: "Bob" })).toBeNull();
    expect(await fx.stores.users.findByLogin({ email: "Bob@Example.test" })).toBeNull();
    expect(await fx.stores.users.findByLogin({ username: "nobody" })).toBeNull();
    expect(await fx.stores.users.findByLogin({})).toBeNull();
  });

  it("keeps the role it was given", async () => {
    const input = newUser("Root", { role: "superadmin" });
    await fx.stores.users.insert(input);
    expect((await fx.stores.users.findById(input.id))?.role).toBe("superadmin");
  });

  it("answers username_taken (without throwing) for a duplicate normalized username", async () => {
    await fx.stores.users.insert(newUser("Carol"));
    const dup = newUser("CAROL", { usernameNormalized: "carol", email: null, emailNormalized: null });
    expect(await fx.stores.users.insert(dup)).toEqual({ ok: false, conflict: "username_taken" });
    expect(await fx.stores.users.findById(dup.id)).toBeNull();
  });

  it("answers email_taken (without throwing) for a duplicate normalized email", async () => {
    await fx.stores.users.insert(newUser("Dave"));
    const dup = newUser("dave2", { email: "DAVE@example.TEST", emailNormalized: "dave@example.test" });
    expect(await fx.stores.users.insert(dup)).toEqual({ ok: false, conflict: "email_taken" });
    expect(await fx.stores.users.findById(dup.id)).toBeNull();
  });

  it("lets any number of users have no email", async () => {
    for (const name of ["noemail1", "noemail2", "noemail3"]) {
      expect(await fx.stores.users.insert(newUser(name, { email: null, emailNormalized: null }))).toEqual({ ok: true });
    }
  });

  it("updatePasswordHash replaces the hash and bumps updatedAt only", async () => {
    const input = newUser("Erin");
    await fx.stores.users.insert(input);
    await fx.stores.users.updatePasswordHash(input.id, "$argon2id$v=19$m=19456,t=2,p=1$new", input.createdAt + 5000);
    const user = await fx.stores.users.findById(input.id);
    expect(user).toMatchObject({
      passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$new",
      updatedAt: input.createdAt + 5000,
      createdAt: input.createdAt,
      lastLoginAt: null,
    });
  });

  it("replacePasswordHash swaps only while the row still holds the expected hash: of two concurrent swaps exactly one wins", async () => {
    const input = newUser("Erin2", { passwordHash: "pbkdf2:sha256:1000$salt$old" });
    await fx.stores.users.insert(input);
    expect(await fx.stores.users.replacePasswordHash(input.id, "pbkdf2:sha256:1000$salt$other", "$argon2id$v=19$m=19456,t=2,p=1$x", input.createdAt + 1)).toBe(false);
    expect((await fx.stores.users.findById(input.id))?.passwordHash).toBe("pbkdf2:sha256:1000$salt$old");
    const results = await Promise.all(
      ["$argon2id$v=19$m=19456,t=2,p=1$a", "$argon2id$v=19$m=19456,t=2,p=1$b"].map((next) => fx.stores.users.replacePasswordHash(input.id, "pbkdf2:sha256:1000$salt$old", next, input.createdAt + 7000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const user = await fx.stores.users.findById(input.id);
    expect(user?.passwordHash).toBe(results[0] ? "$argon2id$v=19$m=19456,t=2,p=1$a" : "$argon2id$v=19$m=19456,t=2,p=1$b");
    expect(user?.updatedAt).toBe(input.createdAt + 7000);
    expect(await fx.stores.users.replacePasswordHash("00000000-0000-4000-8000-000000000000", "x", "y", 1)).toBe(false);
  });

  it("recordLogin stores the last login time as a number", async () => {
    const input = newUser("Frank");
    await fx.stores.users.insert(input);
    await fx.stores.users.recordLogin(input.id, input.createdAt + 60_000);
    const user = await fx.stores.users.findById(input.id);
    expect(user?.lastLoginAt).toBe(input.createdAt + 60_000);
    expect(typeof user?.lastLoginAt).toBe("number");
  });

  it("delete answers true for an existing user and false afterwards", async () => {
    const input = newUser("Grace");
    await fx.stores.users.insert(input);
    expect(await fx.stores.users.delete(input.id)).toBe(true);
    expect(await fx.stores.users.findById(input.id)).toBeNull();
    expect(await fx.stores.users.delete(input.id)).toBe(false);
  });

  it("deleting a user deletes their session rows through the foreign key, and nobody else's", async () => {
    const victim = newUser("Heidi");
    const other = newUser("Ivan");
    await fx.stores.users.insert(victim);
    await fx.stores.users.insert(other);
    const t = victim.createdAt;
    for (const s of [newSession(victim.id, t), newSession(victim.id, t + 1), newSession(other.id, t)]) {
      await fx.stores.sessions.insert(s);
    }
    expect(await fx.stores.users.delete(victim.id)).toBe(true);

    // Count rows directly: findWithUser's inner join would hide orphans.
    const count = async (userId: string) =>
      (await fx.database.db.selectFrom("sessions").select("id").where("user_id", "=", userId).execute()).length;
    expect(await count(victim.id)).toBe(0);
    expect(await count(other.id)).toBe(1);
  });

  it("refuses a session for a user that does not exist (foreign key enforced)", async () => {
    await expect(fx.stores.sessions.insert(newSession("00000000-0000-4000-8000-00000000dead", 1))).rejects.toThrow();
  });
});
