import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { tokenOf, uname } from "../helpers/attacks.js";

/** Distinctive values that must never reach a log line. */
const canary = (label: string) => `canary-${label}-${randomBytes(12).toString("hex")}`;

describe.each(backendNames())("attack: secrets harvested from logs (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    // With the per-request access log on, so every request of the life cycle leaves a line to search.
    h = await startHarness(backend, { ACCESS_LOG: "true" });
  });
  afterAll(async () => h?.close());

  it("log harvesting: a full account life cycle with canary secrets leaves none of them in the logs", async () => {
    const user = uname("logcanary");
    const password = canary("password");
    const wrongPassword = canary("wrong");
    const newPassword = canary("newpassword");
    const urlToken = canary("urltoken");
    const bearer = canary("bearer");
    const csrf = canary("csrf");
    const cookies: string[] = [];
    const before = h.logs.lines.length;

    const reg = await h.request({ method: "POST", url: "/api/auth/register", json: { username: user, password, email: `${user}@example.test` } });
    expect(reg.statusCode).toBe(201);
    cookies.push(sessionCookieFrom(reg)!);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: user, password: wrongPassword } })).statusCode).toBe(401);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user, password } });
    expect(login.statusCode).toBe(200);
    cookies.push(sessionCookieFrom(login)!);
    const change = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie: cookies[1]!,
      headers: { "x-csrf-token": csrf },
      json: { currentPassword: password, newPassword },
    });
    expect(change.statusCode).toBe(204);
    cookies.push(sessionCookieFrom(change)!);
    const wrongChange = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie: cookies[2]!,
      json: { currentPassword: wrongPassword, newPassword: password },
    });
    expect(wrongChange.statusCode).toBe(403);
    expect((await h.request({ method: "GET", url: `/api/auth/me?token=${urlToken}&session=${urlToken}`, cookie: cookies[2]! })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: `/api/auth/me?access_token=${urlToken}`, headers: { authorization: `Bearer ${bearer}` } })).statusCode).toBe(401);
    await h.request({ method: "POST", url: `/api/auth/login?token=${urlToken}`, json: { username: user, password: newPassword, token: urlToken } });
    expect((await h.request({ method: "POST", url: "/api/auth/logout", cookie: cookies[2]! })).statusCode).toBe(204);

    const logs = h.logs.lines.slice(before).join("\n");
    expect(logs.length, "the scenario was logged at all").toBeGreaterThan(0);
    expect(logs).toContain("/api/auth/login"); // requests are logged, just without their secrets
    const secrets: Record<string, string> = { password, wrongPassword, newPassword, urlToken, bearer, csrf };
    cookies.forEach((c, i) => {
      secrets[`cookie#${i}`] = tokenOf(c);
    });
    for (const [name, value] of Object.entries(secrets)) expect(logs, `${name} leaked into the logs`).not.toContain(value);
    expect(logs).not.toMatch(/Bearer/i);
    expect(logs).not.toContain("gatehouse_session=");
    expect(logs).not.toContain("$argon2");
  });

  it("log harvesting: a password typed into the username field is not logged either", async () => {
    const before = h.logs.lines.length;
    const password = canary("typedasusername");
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: password, password: "x" } });
    expect(res.statusCode).toBe(401);
    expect(h.logs.lines.slice(before).join("\n")).not.toContain(password);
  });

  it("log injection: CR/LF and a forged JSON record in the username keep the log one JSON object per line", async () => {
    const before = h.logs.lines.length;
    const forged = 'bob\r\n{"level":30,"msg":"forged","event":"login_success","actor":"admin"}';
    for (const username of [forged, `bob\n${forged}`, "bob\u2028{\"msg\":\"forged\"}", "bob\u001b[31m\u0007"]) {
      const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username, password: "whatever-password-1" } });
      expect([400, 401]).toContain(res.statusCode);
    }
    await h.request({ method: "GET", url: "/api/auth/me", headers: { "user-agent": `ua\r\n{"msg":"forged"}` } });
    const lines = h.logs.lines.slice(before);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed.msg).not.toBe("forged");
      expect(parsed.event).toBeUndefined();
    }
  });
});
