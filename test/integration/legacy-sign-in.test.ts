import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";

/** test/fixtures/legacy-hashes/hashes.jsonl: hashes made by werkzeug, Django, bcrypt, passlib and argon2-cffi. */
interface Fixture {
  scheme: string;
  password: string;
  hash: string;
  params: Record<string, unknown>;
  supported?: false;
}
const FIXTURES = readFileSync(join(import.meta.dirname, "..", "fixtures", "legacy-hashes", "hashes.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as Fixture);

/** The cheapest usable fixture of each scheme (and argon2i: another app's Argon2 that is not Gatehouse-shaped). */
function cheapest(pick: (f: Fixture) => boolean): Fixture {
  const cost = (f: Fixture) => Number(f.params.iterations ?? f.params.n ?? f.params.cost ?? Number(f.params.m ?? 0) * Number(f.params.t ?? 1));
  return FIXTURES.filter((f) => f.supported !== false && f.params.over72 !== true && pick(f)).sort((a, b) => cost(a) - cost(b))[0]!;
}
const SCHEMES = ["werkzeug-pbkdf2", "werkzeug-scrypt", "django-pbkdf2", "django-argon2", "django-bcrypt", "django-bcrypt-sha256", "bcrypt"];
const CASES: { name: string; fixture: Fixture }[] = [
  ...SCHEMES.map((scheme) => ({ name: scheme, fixture: cheapest((f) => f.scheme === scheme) })),
  { name: "argon2 (argon2i)", fixture: cheapest((f) => f.hash.startsWith("$argon2i$")) },
  { name: "bcrypt $2y$", fixture: cheapest((f) => f.hash.startsWith("$2y$")) },
];
const NATIVE = "$argon2id$v=19$m=19456,t=2,p=1$";
const WERKZEUG = cheapest((f) => f.scheme === "werkzeug-pbkdf2");

describe.each(backendNames())("imported accounts sign in with their legacy hash, upgraded once to Argon2id (%s)", (backend) => {
  let h: Harness;
  let seq = 0;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  /** An imported account: its source app's hash stored as is (as `gatehouse import users` does). */
  async function imported(hash: string): Promise<{ id: string; username: string }> {
    const username = `imported${++seq}x${process.pid % 1000}`;
    const id = randomUUID();
    const result = await h.gh.stores.users.insert({ id, username, usernameNormalized: username, email: null, emailNormalized: null, passwordHash: hash, role: "user", createdAt: h.clock.now() });
    expect(result).toEqual({ ok: true });
    return { id, username };
  }
  const login = (username: string, password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });
  const storedHash = async (id: string) => (await h.gh.stores.users.findById(id))!.passwordHash;
  const upgrades = async (id: string) => (await h.gh.stores.audit.list({ type: "password_upgraded", limit: 1000 })).filter((e) => e.userId === id);

  for (const { name, fixture } of CASES) {
    it(`${name}: signs in; the row then holds Gatehouse's Argon2id hash, the next sign-in works, one password_upgraded event`, async () => {
      const user = await imported(fixture.hash);
      const first = await login(user.username, fixture.password);
      expect(first.statusCode).toBe(200);
      expect(sessionCookieFrom(first)).toBeTruthy();
      const upgraded = await storedHash(user.id);
      expect(upgraded?.startsWith(NATIVE)).toBe(true);
      expect(upgraded).not.toContain(fixture.hash.split("$").pop()!); // the old digest is gone
      const again = await login(user.username, fixture.password);
      expect(again.statusCode).toBe(200);
      expect(await storedHash(user.id)).toBe(upgraded); // no second rehash
      const events = await upgrades(user.id);
      expect(events).toHaveLength(1);
      expect(events[0]!.details).toEqual({ from: fixture.scheme });
      expect(events[0]!.actorId).toBe(user.id);
      // Nothing of the password or either hash in the event or the logs.
      const text = JSON.stringify(events) + h.logs.text();
      expect(text).not.toContain(fixture.password);
      expect(text).not.toContain(fixture.hash);
      expect(text).not.toContain(upgraded!);
    });
  }

  it("a wrong password (and a one-character change) for an imported account: 401 invalid_credentials, no upgrade, no event", async () => {
    for (const { fixture } of CASES) {
      const user = await imported(fixture.hash);
      for (const wrong of ["definitely-not-it", `${fixture.password}x`]) {
        const res = await login(user.username, wrong);
        expect(res.statusCode).toBe(401);
        expect(res.json().code).toBe("invalid_credentials");
      }
      expect(await storedHash(user.id)).toBe(fixture.hash);
      expect(await upgrades(user.id)).toEqual([]);
    }
  });

  it("a blocked imported account is refused even with the right password, and keeps its hash", async () => {
    const user = await imported(WERKZEUG.hash);
    await h.gh.stores.users.update(user.id, { blocked: true }, h.clock.now());
    const res = await login(user.username, WERKZEUG.password);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("account_blocked");
    expect(sessionCookieFrom(res)).toBeFalsy();
    expect(await storedHash(user.id)).toBe(WERKZEUG.hash);
    expect(await upgrades(user.id)).toEqual([]);
  });

  it("attack/race: two concurrent first sign-ins both succeed, and exactly one upgrade happens (one event)", async () => {
    for (const { fixture } of CASES.slice(0, 3)) {
      const user = await imported(fixture.hash);
      const [a, b] = await Promise.all([login(user.username, fixture.password), login(user.username, fixture.password)]);
      expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
      expect((await storedHash(user.id))?.startsWith(NATIVE)).toBe(true);
      expect(await upgrades(user.id)).toHaveLength(1);
      expect((await login(user.username, fixture.password)).statusCode).toBe(200);
    }
  });

  it("a bcrypt account whose password is over 72 bytes cannot sign in with it (never truncated); bcrypt_sha256 accounts can", async () => {
    const long = FIXTURES.find((f) => f.scheme === "bcrypt" && f.params.over72 === true)!;
    const user = await imported(long.hash);
    const res = await login(user.username, long.password);
    expect(res.statusCode).toBe(401);
    expect(await storedHash(user.id)).toBe(long.hash);
    const sha = FIXTURES.find((f) => f.scheme === "django-bcrypt-sha256" && Number(f.params.bytes) > 72)!;
    const other = await imported(sha.hash);
    expect((await login(other.username, sha.password)).statusCode).toBe(200);
  });

  it("an unusable stored hash (unknown format, out-of-range parameters) answers like a wrong password, never 500", async () => {
    for (const hash of ["$pbkdf2-sha256$1000$abc$def", "pbkdf2:sha256:99999999$abcdefgh$" + "00".repeat(32), "plaintext", "9cc2ae8a1ba7a93da39b46fc1019c481"]) {
      const user = await imported(hash);
      const res = await login(user.username, "plaintext");
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("invalid_credentials");
      expect(await storedHash(user.id)).toBe(hash);
    }
  });

  it("a Gatehouse-shaped Argon2id hash with other parameters is rehashed without a password_upgraded event", async () => {
    const other = cheapest((f) => f.hash.startsWith("$argon2id$v=19$"));
    const user = await imported(other.hash);
    expect((await login(user.username, other.password)).statusCode).toBe(200);
    expect((await storedHash(user.id))?.startsWith(NATIVE)).toBe(true);
    expect(await upgrades(user.id)).toEqual([]);
  });

  it("re-authentication checks a legacy hash too (and upgrades it)", async () => {
    const user = await imported(WERKZEUG.hash);
    const signedIn = await login(user.username, WERKZEUG.password);
    const cookie = sessionCookieFrom(signedIn)!;
    // As if the row were imported again while signed in.
    await h.gh.stores.users.updatePasswordHash(user.id, WERKZEUG.hash, h.clock.now());
    h.gh.sessions.forgetUser(user.id);
    const wrong = await h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: "not-the-password" } });
    expect(wrong.statusCode).toBe(403);
    expect(await storedHash(user.id)).toBe(WERKZEUG.hash);
    const right = await h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: WERKZEUG.password } });
    expect(right.statusCode).toBe(204);
    expect((await storedHash(user.id))?.startsWith(NATIVE)).toBe(true);
    expect(await upgrades(user.id)).toHaveLength(2);
  });
});

describe("load shedding covers legacy verifies (AUTH-12)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite", { HASH_CONCURRENCY: "1", HASH_QUEUE: "1" });
  });
  afterAll(async () => h?.close());

  it("attack: a flood of sign-ins to imported accounts with a saturated hashing gate gets 503 overloaded, never 500", async () => {
    const slow = FIXTURES.find((f) => f.scheme === "werkzeug-pbkdf2" && f.params.iterations === 260000)!;
    const names: string[] = [];
    for (let i = 0; i < 12; i++) {
      const username = `flooded${i}x${process.pid % 1000}`;
      await h.gh.stores.users.insert({ id: randomUUID(), username, usernameNormalized: username, email: null, emailNormalized: null, passwordHash: slow.hash, role: "user", createdAt: h.clock.now() });
      names.push(username);
    }
    const results = await Promise.all(names.map((username) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password: "wrong password here" } })));
    const statuses = results.map((r) => r.statusCode);
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    const shed = results.filter((r) => r.statusCode === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const r of shed) expect(r.json().code).toBe("overloaded");
  });
});
