import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, rulesFile } from "../helpers/forward-auth.js";

const OPEN = `
access_control:
  rules:
    - domain: app.example.test
      policy: one_factor
`;
const CLOSED = `
access_control:
  rules:
    - domain: app.example.test
      resources: ["^/reports"]
      policy: deny
    - domain: app.example.test
      policy: one_factor
`;

describe.each(backendNames())("access rules file: load and reload (SIGHUP) (%s)", (backend) => {
  let h: Harness;
  let path: string;
  let user: { cookie: string };
  beforeAll(async () => {
    path = rulesFile(OPEN);
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: path });
    user = await h.account("user");
  });
  afterAll(async () => h?.close());

  it("a reload swaps the rules in place; the next decision uses them", async () => {
    expect((await ask(h, { uri: "/reports", cookie: user.cookie })).statusCode).toBe(200);
    writeFileSync(path, CLOSED);
    expect(h.gh.reloadRules()).toBe(true);
    expect((await ask(h, { uri: "/reports", cookie: user.cookie })).statusCode).toBe(403);
    expect((await ask(h, { uri: "/home", cookie: user.cookie })).statusCode).toBe(200);
    expect(h.logs.text()).toMatch(/access rules reloaded/);
  });

  it("a bad file keeps the old rules and logs why, with its line number", async () => {
    writeFileSync(path, `${CLOSED}    - domain: app.example.test\n      policy: three_factor\n`);
    expect(h.gh.reloadRules()).toBe(false);
    expect((await ask(h, { uri: "/reports", cookie: user.cookie })).statusCode).toBe(403);
    expect((await ask(h, { uri: "/home", cookie: user.cookie })).statusCode).toBe(200);
    expect(h.logs.text()).toMatch(/NOT reloaded/);
    expect(h.logs.text()).toMatch(/line 10: `policy` must be one of/);
  });

  it("decisions in flight during reloads never see a half-loaded rule set", async () => {
    writeFileSync(path, CLOSED);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => {
        if (i % 10 === 0) h.gh.reloadRules();
        return ask(h, { uri: "/reports", cookie: user.cookie });
      }),
    );
    expect(new Set(answers.map((r) => r.statusCode))).toEqual(new Set([403]));
  });

  it("attack: ReDoS through an access rule — anonymous forward-auth requests on the review's patterns are answered at once", async () => {
    writeFileSync(path, `access_control:
  rules:
    - domain: app.example.test
      resources: ['^/docs/(.|\\s)*\\.pdf$', '^/api/(\\w|\\d)*$', '^/files/.*-.*-.*-.*\\.pdf$']
      policy: bypass
    - domain: app.example.test
      policy: one_factor
`);
    expect(h.gh.reloadRules()).toBe(true);
    expect((await ask(h, { uri: "/docs/a%20b.pdf" })).statusCode).toBe(200);
    // 30 spaces held a backtracking engine for seconds (the review: 28 spaces, 5 s; 40 spaces, over 90 s).
    for (const uri of [`/docs/${"%20".repeat(30)}.pdX`, `/api/${"1".repeat(30)}!`, `/files/${"-".repeat(400)}.pdX`]) {
      const t = process.cpuUsage();
      expect((await ask(h, { uri })).statusCode).toBe(401);
      const used = process.cpuUsage(t);
      expect((used.user + used.system) / 1000, uri.slice(0, 12)).toBeLessThan(100);
    }
  });

  it("an invalid file at start stops the start with line-numbered problems", async () => {
    const bad = rulesFile("access_control:\n  rules:\n    - domain: a.test\n      resources: [\"(?<=/)admin\"]\n      policy: deny\n");
    await expect(startHarness(backend, { GATEHOUSE_CONFIG: bad })).rejects.toThrow(/line 4: resource .* uses a lookbehind/);
  });

  it("no GATEHOUSE_CONFIG: everything is denied (default deny), and the portal's own host is known", async () => {
    const bare = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY });
    try {
      const u = await bare.account("superadmin");
      expect((await ask(bare, { host: "gw.test", uri: "/x", cookie: u.cookie })).statusCode).toBe(403);
      expect((await ask(bare, { host: "app.example.test", uri: "/x", cookie: u.cookie })).statusCode).toBe(403);
      expect(bare.gh.reloadRules()).toBe(false);
    } finally {
      await bare.close();
    }
  });
});

describe.each(backendNames())("access rules: networks match the client address resolved through TRUSTED_PROXIES (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    const rules = `
access_control:
  rules:
    - domain: app.example.test
      networks: ["203.0.113.0/24", "2001:db8::/32"]
      policy: bypass
    - domain: app.example.test
      policy: one_factor
`;
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(rules) });
  });
  afterAll(async () => h?.close());

  it("a client in the network (per the proxy's X-Forwarded-For) passes; others must sign in", async () => {
    expect((await ask(h, { uri: "/", headers: { "x-forwarded-for": "203.0.113.5" } })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/", headers: { "x-forwarded-for": "2001:db8::7" } })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/", headers: { "x-forwarded-for": "198.51.100.1" } })).statusCode).toBe(401);
    // The client cannot prepend its own entry: the right-most untrusted address counts.
    expect((await ask(h, { uri: "/", headers: { "x-forwarded-for": "203.0.113.5, 198.51.100.1" } })).statusCode).toBe(401);
  });
});
