import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { countUsers, expectErrorBody, uname } from "../helpers/attacks.js";

const PAYLOADS = [
  "' OR '1'='1' --",
  "admin'--",
  '"; DROP TABLE users;--',
  "1 OR 1=1",
  "' OR 1=1; --",
  "x' UNION SELECT id, password_hash FROM users --",
  "') OR ('a'='a",
  "%' OR username LIKE '%",
  "'; DELETE FROM sessions; --",
  "admin@example.test' OR '1'='1",
];

describe.each(backendNames())("attack: SQL injection (%s)", (backend) => {
  let h: Harness;
  let victim: string;
  let victimCookie: string;
  let victimId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    victim = uname("sqlvictim");
    let res;
    ({ cookie: victimCookie, res } = await h.register(victim, GOOD_PASSWORD, `${victim}@example.test`));
    victimId = res.json().user.id as string;
  });
  // This suite is about injection, not throttling: clear the victim's brute-force counter between payloads.
  beforeEach(async () => h.gh.regulator.unlock(`user:${victimId}`));
  afterAll(async () => h?.close());

  const login = (username: string, password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });

  it.each(PAYLOADS)("SQL injection in the login username %j: 401 invalid_credentials, never 500 or a session", async (payload) => {
    const res = await login(payload, "whatever-password-1");
    expectErrorBody(res, 401, "invalid_credentials");
    expect(sessionCookieFrom(res)).toBeNull();
  });

  it.each(PAYLOADS)("SQL injection in the login password %j against a real account: 401, never a bypass", async (payload) => {
    const res = await login(victim, payload);
    expectErrorBody(res, 401, "invalid_credentials");
    expect(sessionCookieFrom(res)).toBeNull();
  });

  it("SQL injection: the username with a comment suffix does not log in as that user", async () => {
    for (const suffix of ["'--", "' --", "';--", "'#", "'/*"]) {
      const res = await login(`${victim}${suffix}`, "not-the-password-1");
      expect(res.statusCode, suffix).toBe(401);
    }
  });

  it("NUL-byte injection in the login name: the same 401 as any unknown user, never a 500 (PostgreSQL refuses U+0000)", async () => {
    for (const username of [`${victim}\u0000`, "bob\u0000' OR '1'='1", `${victim}\u0000@example.test`]) {
      const res = await login(username, "whatever-password-1");
      expectErrorBody(res, 401, "invalid_credentials");
    }
  });

  it("NUL-byte injection in the session id path: 400 or 404, never a 500", async () => {
    for (const url of ["/api/account/sessions/%00", "/api/account/sessions/a%00b"]) {
      const res = await h.request({ method: "DELETE", url, cookie: victimCookie });
      expect([400, 404], `${url}: ${res.body}`).toContain(res.statusCode);
    }
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victimCookie })).statusCode).toBe(200);
  });

  it.each(PAYLOADS)("SQL injection as a new username %j: 400 (charset), never 500, nobody created", async (payload) => {
    const before = await countUsers(h);
    const res = await h.request({ method: "POST", url: "/api/auth/register", json: { username: payload, password: GOOD_PASSWORD } });
    expectErrorBody(res, 400, "invalid_request");
    expect(res.json().fields).toEqual(["username"]);
    expect(await countUsers(h)).toBe(before);
  });

  it("SQL injection in the email at registration: 400 or a literal stored value, never 500", async () => {
    for (const email of ["a'OR'1'='1@example.test", "x@example.test';DROP/**/TABLE/**/users;--"]) {
      const res = await h.request({
        method: "POST",
        url: "/api/auth/register",
        json: { username: uname("sqlmail"), password: GOOD_PASSWORD, email },
      });
      expect([201, 400], `${email}: ${res.body}`).toContain(res.statusCode);
      if (res.statusCode === 201) expect(res.json().user.email).toBe(email);
    }
  });

  it("SQL injection in query parameters and the session id path: 400/404, never 500", async () => {
    for (const url of [
      "/api/account/sessions?limit=1%20OR%201=1",
      "/api/account/sessions?page=1;DROP%20TABLE%20users",
      "/api/account/sessions/'%20OR%20'1'='1",
    ]) {
      const method = url.includes("/sessions/") ? "DELETE" : "GET";
      const res = await h.request({ method, url, cookie: victimCookie });
      expect([400, 404], `${url}: ${res.body}`).toContain(res.statusCode);
      expectErrorBody(res, res.statusCode, res.json().code);
    }
  });

  it("SQL injection: afterwards the users and sessions tables still exist and the victim still signs in", async () => {
    expect(await countUsers(h)).toBeGreaterThanOrEqual(1);
    const sessions = await h.gh.database.db.selectFrom("sessions").select("id").execute();
    expect(sessions.length).toBeGreaterThanOrEqual(1);
    expect((await login(victim, GOOD_PASSWORD)).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victimCookie })).statusCode).toBe(200);
  });
});
