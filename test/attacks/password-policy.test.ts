import { randomBytes } from "node:crypto";
import { hash, type Algorithm } from "@node-rs/argon2";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { countingHasher, resetCalls } from "../helpers/counting-hasher.js";
import { expectErrorBody, uname } from "../helpers/attacks.js";

// Every Gatehouse built in this file gets a counting hasher (through the harness's `hasher` option).
const calls = { hash: 0, verify: 0, verifyDummy: 0 };
const counted = () => ({ hasher: countingHasher(createArgon2Hasher(), calls) });

const ARGON2ID = 2 as Algorithm;
const CURRENT_PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
/** Random printable noise of `n` characters: never common, never containing a username made of letters g–z. */
const noise = (n: number) => randomBytes(n).toString("hex").slice(0, n);

describe.each(backendNames())("attack: weak, oversized and mangled passwords (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, {}, undefined, counted());
  });
  afterAll(async () => h?.close());
  beforeEach(() => resetCalls(calls));

  const register = (username: string, password: string, email?: string) =>
    h.request({ method: "POST", url: "/api/auth/register", json: { username, password, ...(email ? { email } : {}) } });
  const login = (username: string, password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });
  const storedHash = async (username: string) =>
    (await h.gh.database.db.selectFrom("users").select("password_hash").where("username_normalized", "=", username).executeTakeFirstOrThrow()).password_hash!;

  it("short passwords: 11 characters is 400 password_too_short, 12 is accepted", async () => {
    expectErrorBody(await register(uname("pwshort"), "tulip-orbit"), 400, "password_too_short");
    expect((await register(uname("pwtwelve"), "tulip-orbit7")).statusCode).toBe(201);
    expect(calls.hash, "the counting hasher is wired in: only the accepted password was hashed").toBe(1);
  });

  it("length counted in code points: 12 emoji (24 UTF-16 units) are 12 characters → 201; 11 emoji → too short", async () => {
    const twelve = "🦊🌵🎈🧭🪁🛶🍄🧊🎻🪐🦉🌋";
    expect(twelve.length).toBe(24);
    const res = await register(uname("pwemoji"), twelve);
    expect(res.statusCode, res.body).toBe(201);
    expectErrorBody(await register(uname("pwemojishort"), [...twelve].slice(0, 11).join("")), 400, "password_too_short");
  });

  it.each(["correct horse battery staple", "пароль 日本語 🙂 long enough"])("no composition rules: %j is accepted and signs in", async (password) => {
    const user = uname("pwfree");
    expect((await register(user, password)).statusCode).toBe(201);
    expect((await login(user, password)).statusCode).toBe(200);
  });

  it("long passwords: 256 characters are accepted and sign in; 257 are 400 password_too_long", async () => {
    const user = uname("pwlong");
    const p256 = noise(256);
    expect((await register(user, p256)).statusCode).toBe(201);
    expect((await login(user, p256)).statusCode).toBe(200);
    expectErrorBody(await register(uname("pwlonger"), noise(257)), 400, "password_too_long");
  });

  it("long-password DoS: 10,000 characters on register and login are 400 before any hashing", async () => {
    const huge = noise(10_000);
    expect((await register(uname("pwhuge"), huge)).statusCode).toBe(400);
    expect((await login(uname("pwhuge"), huge)).statusCode).toBe(400);
    expect(calls).toEqual({ hash: 0, verify: 0, verifyDummy: 0 });
  });

  it("long-password DoS: a 10,000-character password is refused with the stated reason password_too_long", async () => {
    // NIST 800-63B: a rejected password gets its reason; 257 characters say password_too_long, so must 10,000.
    expectErrorBody(await register(uname("pwhuge"), noise(10_000)), 400, "password_too_long");
    expect(calls.hash).toBe(0);
  });

  it("long-password DoS: 257–4096 character passwords on login are refused before any hashing", async () => {
    const res = await login(uname("pwmid"), noise(3000));
    expect(res.statusCode).toBe(400);
    expect(calls).toEqual({ hash: 0, verify: 0, verifyDummy: 0 });
  });

  it("long-password DoS: a ~100 KB password body is 413 and nothing is hashed", async () => {
    const res = await register(uname("pwbody"), noise(100_000));
    expectErrorBody(res, 413, "payload_too_large");
    expect((await login(uname("pwbody"), noise(100_000))).statusCode).toBe(413);
    expect(calls).toEqual({ hash: 0, verify: 0, verifyDummy: 0 });
  });

  it("common passwords: 'passwordpassword' is 400 password_common", async () => {
    expectErrorBody(await register(uname("pwcommon"), "passwordpassword"), 400, "password_common");
    expectErrorBody(await register(uname("pwcommon"), "qwerty123456!"), 400, "password_common");
  });

  it("context passwords: username, product name and email local part inside the password are 400 password_contextual", async () => {
    const user = uname("pwctx");
    expectErrorBody(await register(user, `${user}-secret-2024`), 400, "password_contextual");
    expectErrorBody(await register(user, `${user.toUpperCase()}-secret-2024`), 400, "password_contextual");
    expectErrorBody(await register(uname("pwctx"), "my-GateHouse-login-77"), 400, "password_contextual");
    expectErrorBody(await register(uname("pwctx"), "marigold.quill-river-2024", "marigold.quill@example.test"), 400, "password_contextual");
    expect(calls.hash).toBe(0);
  });

  it("AUTH-04 mangling: case-swapped first letter, an added or removed trailing space, or a 72-char prefix do not sign in", async () => {
    const user = uname("pwexact");
    const password = `Xenon ${noise(94)}`; // 100 characters, first letter upper-case
    expect(password).toHaveLength(100);
    expect((await register(user, password)).statusCode).toBe(201);
    for (const [name, attempt] of [
      ["first letter case-swapped", `x${password.slice(1)}`],
      ["trailing space added", `${password} `],
      ["leading space added", ` ${password}`],
      ["first 72 characters (bcrypt truncation)", password.slice(0, 72)],
      ["last character dropped", password.slice(0, -1)],
    ] as const) {
      expect((await login(user, attempt)).statusCode, name).toBe(401);
    }
    expect((await login(user, password)).statusCode).toBe(200);
  });

  it("AUTH-04 mangling: a password ending in a space is verified as typed (without it → 401)", async () => {
    const user = uname("pwspace");
    const password = `${noise(20)} `;
    expect((await register(user, password)).statusCode).toBe(201);
    expect((await login(user, password.trimEnd())).statusCode).toBe(401);
    expect((await login(user, password)).statusCode).toBe(200);
  });

  it("offline cracking: the stored hash is Argon2id m=19456,t=2,p=1 with a ≥16-byte salt, unique per user", async () => {
    const a = uname("pwsalta");
    const b = uname("pwsaltb");
    const password = `shared-${noise(16)}`;
    await register(a, password);
    await register(b, password);
    const [ha, hb] = [await storedHash(a), await storedHash(b)];
    const ma = CURRENT_PHC.exec(ha);
    const mb = CURRENT_PHC.exec(hb);
    expect(ma, ha).not.toBeNull();
    expect(mb, hb).not.toBeNull();
    expect(ma![1]).not.toBe(mb![1]);
    expect(ma![2]).not.toBe(mb![2]);
    expect(Buffer.from(ma![1]!, "base64").length).toBeGreaterThanOrEqual(16);
  });

  it("weak legacy hash: a user stored with m=4096,t=1 is rehashed to the current parameters on login", async () => {
    const user = uname("pwlegacy");
    const password = `legacy-${noise(16)}`;
    await register(user, password);
    const weak = await hash(password, { algorithm: ARGON2ID, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(weak).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    await h.gh.database.db.updateTable("users").set({ password_hash: weak }).where("username_normalized", "=", user).execute();

    expect((await login(user, "wrong-password-123")).statusCode).toBe(401);
    expect(await storedHash(user)).toBe(weak); // a failed login never rewrites the hash
    expect((await login(user, password)).statusCode).toBe(200);
    const upgraded = await storedHash(user);
    expect(upgraded).toMatch(CURRENT_PHC);
    expect((await login(user, password)).statusCode).toBe(200);
  });
});
