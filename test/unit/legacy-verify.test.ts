import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import bcryptjs from "bcryptjs";
import { afterAll, describe, expect, it } from "vitest";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import { identifyPasswordHash } from "../../src/core/passwords/legacy/identify-hash.js";
import { legacySchemeOf, scryptMaxmem, verifyLegacyHash } from "../../src/core/passwords/legacy/legacy-verify.js";

/** One line of test/fixtures/legacy-hashes/hashes.jsonl (made by make-hashes.py with the real libraries). */
interface Fixture {
  scheme: string;
  password: string;
  hash: string;
  params: Record<string, unknown>;
  library: string;
  supported?: false;
}

const DIR = join(import.meta.dirname, "..", "fixtures", "legacy-hashes");
const parse = (text: string): Fixture[] =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Fixture);
const FIXTURES = parse(readFileSync(join(DIR, "hashes.jsonl"), "utf8"));
const SUPPORTED = FIXTURES.filter((f) => f.supported !== false);
const FAST = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

const threaded = createArgon2Hasher(FAST, { threads: 2 });
const inProcess = createArgon2Hasher(FAST);
afterAll(async () => {
  await threaded.close();
  await inProcess.close();
});

/** The password with its last character (code point) changed. */
function changedLast(password: string): string {
  const chars = [...password];
  const last = chars.pop()!;
  return chars.join("") + (last === "x" ? "y" : "x");
}

describe("legacy password hashes made by the real libraries verify as they are", () => {
  it("the fixture file covers every scheme, $2a$/$2b$/$2y$, argon2i/d/id, non-ASCII and >72-byte passwords", () => {
    const schemes = new Set(SUPPORTED.map((f) => f.scheme));
    expect([...schemes].sort()).toEqual(["argon2", "bcrypt", "django-argon2", "django-bcrypt", "django-bcrypt-sha256", "django-pbkdf2", "werkzeug-pbkdf2", "werkzeug-scrypt"]);
    expect(new Set(SUPPORTED.filter((f) => f.scheme === "bcrypt").map((f) => f.hash.slice(0, 4)))).toEqual(new Set(["$2a$", "$2b$", "$2y$"]));
    expect(new Set(SUPPORTED.filter((f) => f.scheme === "argon2").map((f) => f.hash.split("$")[1]))).toEqual(new Set(["argon2id", "argon2i", "argon2d"]));
    expect(SUPPORTED.some((f) => [...f.password].some((c) => c.codePointAt(0)! > 127))).toBe(true);
    expect(SUPPORTED.some((f) => f.scheme === "bcrypt" && Buffer.byteLength(f.password) > 72)).toBe(true);
  });

  for (const f of SUPPORTED) {
    const label = `${f.scheme} (${f.library}, ${JSON.stringify(f.params)})`;
    const over72 = f.params.over72 === true;
    it(`${label}: ${over72 ? "refused (over 72 bytes)" : "the password matches"}; a wrong one and a one-character change do not`, async () => {
      const identity = identifyPasswordHash(f.hash);
      expect(identity.ok && identity.scheme).toBe(f.scheme);
      expect(await threaded.verify(f.hash, f.password)).toBe(!over72);
      expect(await inProcess.verify(f.hash, f.password)).toBe(!over72);
      expect(await verifyLegacyHash(f.hash, f.password)).toBe(!over72);
      expect(await threaded.verify(f.hash, "definitely not the password")).toBe(false);
      expect(await threaded.verify(f.hash, changedLast(f.password))).toBe(false);
      expect(await inProcess.verify(f.hash, changedLast(f.password))).toBe(false);
      expect(await threaded.verify(f.hash, "")).toBe(false);
      // Every legacy hash is upgraded at the next sign-in; the Argon2 ones of other apps too.
      expect(threaded.needsRehash(f.hash)).toBe(!f.hash.startsWith("$argon2id$v=19$m=1024,t=1,p=1$")); // but this test's own parameters
    });
  }

  it("formats Gatehouse does not accept (werkzeug's plain HMAC, Django unsalted MD5, passlib's own PBKDF2) never verify, even with the right password", async () => {
    const unsupported = FIXTURES.filter((f) => f.supported === false);
    expect(unsupported.length).toBeGreaterThanOrEqual(3);
    for (const f of unsupported) {
      expect(identifyPasswordHash(f.hash).ok).toBe(false);
      expect(await threaded.verify(f.hash, f.password)).toBe(false);
      expect(await inProcess.verify(f.hash, f.password)).toBe(false);
      expect(await verifyLegacyHash(f.hash, f.password)).toBe(false);
    }
  });

  it("attack: bcrypt 72-byte truncation: a password over 72 bytes never matches a plain bcrypt hash, and neither does another one sharing its first 72 bytes", async () => {
    const long = SUPPORTED.filter((f) => (f.scheme === "bcrypt" || f.scheme === "django-bcrypt") && f.params.over72 === true);
    expect(long.length).toBeGreaterThanOrEqual(3);
    for (const f of long) {
      const bcrypt = f.hash.startsWith("bcrypt$") ? f.hash.slice("bcrypt$".length) : f.hash;
      const sharesFirst72 = `${f.password.slice(0, -6)}XXXXXX`;
      expect(Buffer.from(sharesFirst72).subarray(0, 72)).toEqual(Buffer.from(f.password).subarray(0, 72));
      // bcrypt itself reads only 72 bytes: both would match...
      expect(bcryptjs.compareSync(f.password, bcrypt)).toBe(true);
      expect(bcryptjs.compareSync(sharesFirst72, bcrypt)).toBe(true);
      // ...Gatehouse refuses both (AUTH-04: a password is never truncated).
      for (const hasher of [threaded, inProcess]) {
        expect(await hasher.verify(f.hash, f.password)).toBe(false);
        expect(await hasher.verify(f.hash, sharesFirst72)).toBe(false);
      }
    }
    // Django's bcrypt_sha256 hashes the SHA-256 first: long passwords work there, and the whole password counts.
    const sha = SUPPORTED.find((f) => f.scheme === "django-bcrypt-sha256" && Number(f.params.bytes) > 72)!;
    expect(await threaded.verify(sha.hash, sha.password)).toBe(true);
    expect(await threaded.verify(sha.hash, `${sha.password.slice(0, -6)}XXXXXX`)).toBe(false);
  });

  it("malformed and out-of-range variants of every fixture are false, never a throw", async () => {
    const variants = new Set<string>();
    for (const f of SUPPORTED) {
      variants.add(f.hash.slice(0, -1)); // truncated by one character
      variants.add(f.hash.slice(0, -2)); // a hex/base64 digest shorter by a byte
      variants.add(`${f.hash}00`); // longer
      variants.add(f.hash.slice(0, Math.floor(f.hash.length / 2)));
      variants.add(f.hash.replace(/\$[^$]*$/, "$")); // digest missing
    }
    const outOfRange = [
      "pbkdf2:sha256:99999999$abcdefgh$" + "00".repeat(32),
      "pbkdf2:sha512:1000001$abcdefgh$" + "00".repeat(64),
      "pbkdf2_sha256$0$abcdefgh$" + Buffer.alloc(32).toString("base64"),
      "scrypt:2097152:8:1$abcdefgh$" + "00".repeat(64),
      "scrypt:1000:8:1$abcdefgh$" + "00".repeat(64), // N not a power of two
      "scrypt:1024:8:1$abcdefgh$" + "00".repeat(32), // werkzeug derives 64 bytes: a 32-byte digest is not werkzeug's
      "scrypt:1024:8:99999$abcdefgh$" + "00".repeat(64),
      "$2b$31$" + "a".repeat(53),
      "$2b$03$" + "a".repeat(53),
      "$2x$04$" + "a".repeat(53),
      "$argon2id$v=19$m=9999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(22),
      "$argon2id$v=19$m=1024,t=999,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(22),
      "$argon2id$v=19$m=8,t=1,p=64$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(22),
      "argon2$argon2id$v=19$m=9999999,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" + "A".repeat(22),
      "",
      "$",
      "$2b$",
      "pbkdf2:sha256$abcdefgh$" + "00".repeat(32), // werkzeug's implicit iterations: never guessed
      "pbkdf2:md5:1000$abcdefgh$" + "00".repeat(16),
      "plaintext password",
      "x".repeat(5000),
    ];
    for (const v of outOfRange) variants.add(v);
    const passwords = SUPPORTED.map((f) => f.password);
    for (const v of variants) {
      const password = passwords[v.length % passwords.length]!;
      expect([v, await threaded.verify(v, password)]).toEqual([v, false]);
      expect([v, await verifyLegacyHash(v, password)]).toEqual([v, false]);
    }
    for (const v of outOfRange) expect([v, await inProcess.verify(v, "whatever")]).toEqual([v, false]);
    // The threads still answer correctly after all that.
    const f = SUPPORTED[0]!;
    expect(await threaded.verify(f.hash, f.password)).toBe(true);
  });

  it("Gatehouse's own hashes verify as before and are not legacy; other parameters or variants are rehashed", async () => {
    const own = await threaded.hash("correct horse battery staple");
    expect(await threaded.verify(own, "correct horse battery staple")).toBe(true);
    expect(await threaded.verify(own, "correct horse battery stapler")).toBe(false);
    expect(threaded.needsRehash(own)).toBe(false);
    expect(legacySchemeOf(own)).toBeNull();
    // An Argon2id hash of another app (or of older Gatehouse parameters) is Gatehouse-shaped: rehashed, not "upgraded".
    expect(legacySchemeOf("$argon2id$v=19$m=4096,t=3,p=4$erDymyZRwEprxKwa8NoBBQ$pQ1yb2jAR33nK5e/6k/y2w")).toBeNull();
    for (const f of SUPPORTED) {
      const expected = f.hash.startsWith("$argon2id$v=19$") ? null : f.scheme;
      expect([f.hash, legacySchemeOf(f.hash)]).toEqual([f.hash, expected]);
    }
    expect(legacySchemeOf("not a hash")).toBeNull();
  });

  it("scrypt's memory limit covers werkzeug's default N=32768, r=8 (Node's 32 MiB default does not) and small N alike", () => {
    expect(scryptMaxmem(32768, 8, 1)).toBeGreaterThan(32 * 1024 * 1024 + 128 * 8 * 3);
    expect(scryptMaxmem(2, 1, 1)).toBeGreaterThanOrEqual(128 * 4 + 128);
  });
});

/** Debian's Python with werkzeug, Django, bcrypt, passlib and argon2-cffi (CI: required). */
const PYTHON = "/usr/bin/python3";
const hasPythonLibraries = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import werkzeug, django, bcrypt, passlib, argon2"]).status === 0;

describe("freshly generated hashes (make-hashes.py re-run now)", () => {
  it("CI has Debian's Python with the hashing libraries (the fixtures can be regenerated)", () => {
    if (process.env.CI === "true") expect(hasPythonLibraries).toBe(true);
  });

  it.runIf(hasPythonLibraries)("every hash the libraries make today verifies with its password and not with a changed one", async () => {
    const run = spawnSync(PYTHON, [join(DIR, "make-hashes.py")], { encoding: "utf8", timeout: 120_000 });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const fresh = parse(run.stdout);
    expect(fresh.map((f) => f.scheme)).toEqual(FIXTURES.map((f) => f.scheme));
    for (const f of fresh) {
      // New random salts: not the checked-in strings.
      expect(FIXTURES.some((old) => old.hash === f.hash && !old.hash.startsWith("9cc2"))).toBe(false);
      const matches = f.supported !== false && f.params.over72 !== true;
      expect([f.hash, await threaded.verify(f.hash, f.password)]).toEqual([f.hash, matches]);
      expect([f.hash, await threaded.verify(f.hash, changedLast(f.password))]).toEqual([f.hash, false]);
    }
  });
});
