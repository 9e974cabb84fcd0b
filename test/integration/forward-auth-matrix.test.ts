import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

type Who = "anonymous" | Role;
const WHO: Who[] = ["anonymous", "user", "admin", "superadmin"];

/** The expected status per principal (anonymous, user, admin, superadmin) for the rules of test/helpers/forward-auth.ts. */
const MATRIX: [host: string, method: string, path: string, expected: string][] = [
  ["app.example.test", "GET", "/public/logo.png", "200 200 200 200"],
  ["app.example.test", "POST", "/public/form", "200 200 200 200"],
  ["app.example.test", "GET", "/home", "401 200 200 200"],
  ["app.example.test", "DELETE", "/home/item", "401 200 200 200"],
  ["app.example.test", "GET", "/admin", "401 403 200 200"],
  ["app.example.test", "PUT", "/admin/users/1", "401 403 200 200"],
  ["app.example.test", "GET", "/Admin/../admin", "401 403 200 200"],
  ["wiki.apps.example.test", "GET", "/admin", "401 200 200 200"],
  ["apps.example.test", "GET", "/", "403 403 403 403"],
  ["unknown.test", "GET", "/home", "403 403 403 403"],
];

describe.each(backendNames())("AZ-07: forward-auth host × path × method × role matrix from a trusted proxy (%s)", (backend) => {
  let h: Harness;
  const cookies = new Map<Who, string | undefined>();
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) });
    cookies.set("anonymous", undefined);
    for (const role of ["user", "admin", "superadmin"] as const) cookies.set(role, (await h.account(role)).cookie);
  });
  afterAll(async () => h?.close());

  it.each(MATRIX)("%s %s %s → %s", async (host, method, path, expected) => {
    const got: number[] = [];
    for (const who of WHO) {
      const cookie = cookies.get(who);
      got.push((await ask(h, { host, method, uri: path, ...(cookie ? { cookie } : {}) })).statusCode);
      got.push((await ask(h, { endpoint: "auth-request", host, method, uri: path, ...(cookie ? { cookie } : {}) })).statusCode);
    }
    const forwardAuth = got.filter((_, i) => i % 2 === 0).join(" ");
    const authRequest = got.filter((_, i) => i % 2 === 1).join(" ");
    expect(forwardAuth).toBe(expected);
    expect(authRequest).toBe(expected);
  });
});
