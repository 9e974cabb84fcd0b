import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { countingHasher, resetCalls } from "../helpers/counting-hasher.js";
import { rawSetCookies, uname } from "../helpers/attacks.js";

// Every Gatehouse built in this file gets a counting hasher (through the harness's `hasher` option).
const calls = { hash: 0, verify: 0, verifyDummy: 0 };
const counted = () => ({ hasher: countingHasher(createArgon2Hasher(), calls) });

const IGNORED_HEADERS = new Set(["date", "x-request-id", "content-length"]);

/** What an attacker compares: status, body bytes and the set of header names. */
function fingerprint(res: LightMyRequestResponse) {
  return {
    status: res.statusCode,
    body: res.body,
    headerNames: Object.keys(res.headers)
      .map((k) => k.toLowerCase())
      .filter((k) => !IGNORED_HEADERS.has(k))
      .sort(),
    contentLength: res.body.length,
  };
}

describe.each(backendNames())("attack: user enumeration on login (%s)", (backend) => {
  let h: Harness;
  let known: string;
  let knownEmail: string;
  let blocked: string;
  beforeAll(async () => {
    h = await startHarness(backend, {}, undefined, counted());
    known = uname("enumknown");
    knownEmail = `${known}@example.test`;
    await h.register(known, GOOD_PASSWORD, knownEmail);
    blocked = uname("enumblocked");
    const { res } = await h.register(blocked);
    await h.gh.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", res.json().user.id).execute();
    h.gh.sessions.forgetUser(res.json().user.id);
  });
  afterAll(async () => h?.close());
  beforeEach(() => resetCalls(calls));

  const login = (username: string, password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });

  it("user enumeration: unknown user, wrong password, unknown email and blocked-with-wrong-password answer identically", async () => {
    const cases = {
      unknownUser: await login(uname("enumnobody"), "some-wrong-password-1"),
      wrongPassword: await login(known, "some-wrong-password-1"),
      unknownEmail: await login("nobody-here@example.test", "some-wrong-password-1"),
      wrongPasswordByEmail: await login(knownEmail, "some-wrong-password-1"),
      blockedWrongPassword: await login(blocked, "some-wrong-password-1"),
    };
    const reference = fingerprint(cases.unknownUser);
    expect(reference.status).toBe(401);
    expect(JSON.parse(reference.body)).toEqual({ error: "Invalid username or password", code: "invalid_credentials" });
    for (const [name, res] of Object.entries(cases)) {
      expect(fingerprint(res), name).toEqual(reference);
      expect(rawSetCookies(res), `${name} sets no cookie`).toEqual([]);
    }
  });

  it("user enumeration: the answer does not depend on the password given for an unknown user", async () => {
    const a = await login(uname("enumnobody"), "x");
    const b = await login(uname("enumnobody"), "a-much-longer-wrong-password-with-words");
    expect(fingerprint(b)).toEqual(fingerprint(a));
  });

  it("user enumeration by timing: an unknown user costs the same one password verification as a wrong password", async () => {
    await login(uname("enumnobody"), "some-wrong-password-1");
    expect(calls).toEqual({ hash: 0, verify: 0, verifyDummy: 1 });
    resetCalls(calls);
    await login("nobody-here@example.test", "some-wrong-password-1");
    expect(calls).toEqual({ hash: 0, verify: 0, verifyDummy: 1 });
    resetCalls(calls);
    await login(known, "some-wrong-password-1");
    expect(calls).toEqual({ hash: 0, verify: 1, verifyDummy: 0 });
  });

  it("user enumeration: usernames differing in case or spacing are not told apart from the account", async () => {
    const variants = [known.toUpperCase(), ` ${known} `];
    const reference = fingerprint(await login(known, "some-wrong-password-1"));
    for (const v of variants) expect(fingerprint(await login(v, "some-wrong-password-1")), v).toEqual(reference);
  });

  it("user enumeration: the /me probe of an anonymous caller reveals nothing about accounts", async () => {
    const res = await h.request({ method: "GET", url: "/api/auth/me" });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: "Authentication required", code: "unauthenticated" });
  });
});
