import { describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import type { PasswordHasher } from "../../src/core/passwords/password-hasher.js";
import { defaultPasswordPolicy } from "../../src/core/passwords/password-policy.js";
import { cryptoRandom } from "../../src/core/random.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { createSecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import { defaultSessionLifetimes } from "../../src/core/sessions/session.js";
import { createSignIn } from "../../src/core/sign-in/sign-in.js";
import { createAccountService } from "../../src/core/users/account-service.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { countingHasher, type HashCalls } from "../helpers/counting-hasher.js";
import { origin, useSessionFixture, type SessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

/** A stand-in for Argon2: the seam is under test here, not the hash. */
const plainHasher: PasswordHasher = {
  hash: async (password) => `plain:${password}`,
  verify: async (phc, password) => phc === `plain:${password}`,
  needsRehash: () => false,
  verifyDummy: async () => undefined,
};

/** The real sign-in, audit log and session service on the fixture's SQLite database. */
function seam(f: SessionFixture, sessions = f.svc) {
  const audit = createAuditLog({ store: f.stores.audit, clock: f.clock, random: cryptoRandom });
  const signIn = createSignIn({ users: f.stores.users, sessions, audit, clock: f.clock });
  const events = (type: string) => f.stores.audit.list({ userId: f.alice, type, limit: 10 });
  return { audit, signIn, events };
}

async function alice(f: SessionFixture) {
  const user = await f.stores.users.findById(f.alice);
  if (!user) throw new Error("no alice");
  return user;
}

describe("signIn: the one completion of every sign-in", () => {
  it("issues a brand-new session, ends the presented one (session fixation), records the last sign-in and login_success with its methods", async () => {
    const { signIn, events } = seam(fx);
    const planted = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(60_000);
    const { user, issued } = await signIn({ user: await alice(fx), methods: ["pwd"], flow: "login", origin, remember: true, replacing: planted.token });

    expect(issued.token).not.toBe(planted.token);
    expect(await fx.svc.validate(planted.token)).toBeNull();
    expect((await fx.svc.validate(issued.token))?.user.id).toBe(fx.alice);
    expect(issued.session).toMatchObject({ userId: fx.alice, remember: true, ip: origin.ip, reauthAt: fx.clock.now() });
    expect(user.lastLoginAt).toBe(fx.clock.now());
    expect((await alice(fx)).lastLoginAt).toBe(fx.clock.now());
    const [event, ...more] = await events("login_success");
    expect(more).toEqual([]);
    expect(event).toMatchObject({ userId: fx.alice, actorId: fx.alice, ip: origin.ip, details: { method: "password", amr: "pwd" } });
    expect(JSON.stringify(event)).not.toContain(issued.token);
  });

  it("a registration's sign-in issues the session without a login_success (the register event is its record) and leaves other sessions alone", async () => {
    const { signIn, events } = seam(fx);
    const elsewhere = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    const { issued } = await signIn({ user: await alice(fx), methods: ["pwd"], flow: "registration", origin, remember: false });
    expect((await fx.svc.validate(issued.token))?.session.remember).toBe(false);
    expect(await fx.svc.validate(elsewhere.token)).not.toBeNull();
    expect(await events("login_success")).toEqual([]);
  });

  it("a cached lookup of the user is dropped: every session sees the new last sign-in at once", async () => {
    const { signIn } = seam(fx);
    const other = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    expect((await fx.svc.validate(other.token))?.user.lastLoginAt).toBeNull();
    fx.clock.advance(1_000);
    await signIn({ user: await alice(fx), methods: ["pwd"], flow: "login", origin, remember: false });
    expect((await fx.svc.validate(other.token))?.user.lastLoginAt).toBe(fx.clock.now());
  });

  it("the replaced session gives up its place first: signing in again from a browser at the per-user cap evicts no other device", async () => {
    const sessions = fx.service({ maxPerUser: 2 });
    const { signIn } = seam(fx, sessions);
    const phone = await sessions.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(1_000);
    const laptop = await sessions.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(1_000);
    const { issued } = await signIn({ user: await alice(fx), methods: ["pwd"], flow: "login", origin, remember: false, replacing: laptop.token });
    expect(await sessions.validate(phone.token)).not.toBeNull();
    expect(await sessions.validate(laptop.token)).toBeNull();
    expect(await sessions.validate(issued.token)).not.toBeNull();
  });
});

describe("password login ends with the seam, under the regulator's two steps", () => {
  async function login() {
    const calls: HashCalls = { hash: 0, verify: 0, verifyDummy: 0 };
    const hasher = countingHasher(plainHasher, calls);
    const { audit, signIn, events } = seam(fx);
    const store = createMemoryLimiterStore();
    const policy = defaultProtectionPolicy;
    const regulator = createSecretRegulator({ store, clock: fx.clock, audit, bans: createBanPolicy({ store, clock: fx.clock, audit, policy }), policy });
    const accounts = createAccountService({
      users: fx.stores.users, sessions: fx.svc, hasher, audit, clock: fx.clock, random: cryptoRandom,
      policy: defaultPasswordPolicy, regulator, lifetimes: defaultSessionLifetimes, signIn,
    });
    await fx.database.db.updateTable("users").set({ password_hash: "plain:correct horse battery" }).where("id", "=", fx.alice).execute();
    return { accounts, regulator, calls, events };
  }

  it("wrong passwords are counted against the account; the right one clears them, ends the presented session and signs in", async () => {
    const { accounts, regulator, events } = await login();
    for (let i = 0; i < 3; i++) {
      await expect(accounts.login({ login: "ALICE ", password: "wrong password 1", remember: false }, origin)).rejects.toMatchObject({ code: "invalid_credentials" });
    }
    expect(await regulator.failures(`user:${fx.alice}`)).toBe(3);
    const planted = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    const outcome = await accounts.login({ login: "alice", password: "correct horse battery", remember: false, replacing: planted.token }, origin);
    if (outcome.status !== "signed_in") throw new Error("alice has no second factor");
    const { issued } = outcome;
    expect(await regulator.failures(`user:${fx.alice}`)).toBe(0);
    expect(await fx.svc.validate(planted.token)).toBeNull();
    expect((await fx.svc.validate(issued.token))?.user.id).toBe(fx.alice);
    expect(await events("login_success")).toHaveLength(1);
    expect(await events("login_failure")).toHaveLength(3);
  });

  it("user enumeration by timing: an unknown login costs a dummy verification and is throttled under its own name, like a known one", async () => {
    const { accounts, regulator, calls } = await login();
    await expect(accounts.login({ login: "nobody", password: "any password 12", remember: false }, origin)).rejects.toMatchObject({ code: "invalid_credentials" });
    expect(calls).toMatchObject({ verify: 0, verifyDummy: 1 });
    expect(await regulator.failures("login:nobody")).toBe(1);
  });
});
