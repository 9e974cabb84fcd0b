import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { bearerMatches } from "../../src/http/metrics/metrics-routes.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { REDIS_URL } from "../helpers/backends.js";
import { APP_HOST, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const TOKEN = "metrics-test-token-0123456789abcdef";
const PROMTOOL = "/usr/bin/promtool";

/** The value of one sample (`name{labels}`) in an exposition text; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? "").split(/,(?=[a-z_]+=")/).filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return 0;
}

/** Every label value of every sample. */
function labelValues(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    for (const m of line.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) out.push(`${m[1]}=${m[2]}`);
  }
  return out;
}

/** `promtool check metrics` on the text: its exit status and output. With CI=true a missing promtool fails, never skips. */
function promtool(text: string): { status: number | null; output: string } | null {
  if (!existsSync(PROMTOOL)) {
    if (process.env.CI === "true") throw new Error(`${PROMTOOL} is missing (Debian package prometheus); CI=true never skips this check`);
    return null;
  }
  const run = spawnSync(PROMTOOL, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

describe("GET /metrics off by default (docs/operations.md, Monitoring)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => h?.close());

  it("METRICS unset: /metrics is 404, with or without a token, and no separate listener exists", async () => {
    expect((await h.request({ method: "GET", url: "/metrics" })).statusCode).toBe(404);
    expect((await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
    expect(h.gh.metricsServer).toBeNull();
  });
});

describe("GET /metrics with METRICS=on and METRICS_TOKEN", () => {
  let h: Harness;
  let user: { cookie: string; id: string; name: string };
  const scrape = async () => {
    const res = await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  beforeAll(async () => {
    h = await startHarness("sqlite", {
      METRICS: "on",
      METRICS_TOKEN: TOKEN,
      RATE_LIMIT_LOGIN: "3/1m",
      PUBLIC_URL: "https://gw.test",
      TRUSTED_PROXIES: PROXY,
      GATEHOUSE_CONFIG: rulesFile(RULES),
    });
    user = await h.account("user");
  });
  afterAll(async () => h?.close());

  it("attack: scraping without the token: 401 without Authorization, with a wrong token, another scheme, a session cookie or an API token", async () => {
    const tokenRes = await h.request({ method: "POST", url: "/api/account/tokens", cookie: user.cookie, json: { name: "m", scopes: ["read:account"] } });
    const apiToken = tokenRes.json().secret as string;
    const refused = [
      await h.request({ method: "GET", url: "/metrics" }),
      await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}x` } }),
      await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } }),
      await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` } }),
      await h.request({ method: "GET", url: "/metrics", headers: { authorization: "Bearer " } }),
      await h.request({ method: "GET", url: "/metrics", cookie: user.cookie }),
      await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${apiToken}` } }),
    ];
    for (const res of refused) {
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("unauthenticated");
      expect(res.body).not.toContain("gatehouse_");
    }
    expect(refused[0]!.headers["www-authenticate"]).toBe('Bearer realm="metrics"');
    // The token never reaches the logs.
    expect(h.logs.text()).not.toContain(TOKEN);
  });

  it("with the token: 200 in the Prometheus text format, default process metrics prefixed gatehouse_, no caching", async () => {
    const res = await h.request({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toMatch(/^# HELP gatehouse_process_cpu_user_seconds_total /m);
    expect(res.body).toMatch(/^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
    expect(sample(res.body, "gatehouse_dependency_up", { dependency: "database" })).toBe(1);
    expect(res.body).not.toMatch(/dependency="redis"/);
    expect(res.body).not.toMatch(/^process_/m);
  });

  it("a sign-in, a failed sign-in, forward-auth decisions and a rate-limit hit move their counters", async () => {
    const before = await scrape();
    expect((await h.login(user.name)).res.statusCode).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: user.name, password: "wrong-password-entirely" } })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/dashboard", cookie: (await h.login(user.name)).cookie })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/dashboard" })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/public/logo.png" })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/admin/x", cookie: user.cookie })).statusCode).toBe(403);
    // The fourth login from one address within the minute (RATE_LIMIT_LOGIN=3/1m).
    const limited = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user.name, password: "x" } });
    expect(limited.statusCode).toBe(429);
    await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie });
    await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie });
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved("gatehouse_sign_ins_total", { method: "password", outcome: "success" })).toBe(2);
    expect(moved("gatehouse_sign_ins_total", { method: "password", outcome: "failure" })).toBe(1);
    expect(moved("gatehouse_access_decisions_total", { via: "forward_auth", policy: "one_factor", outcome: "allow" })).toBe(1);
    expect(moved("gatehouse_access_decisions_total", { via: "forward_auth", policy: "one_factor", outcome: "unauthenticated" })).toBe(1);
    expect(moved("gatehouse_access_decisions_total", { via: "forward_auth", policy: "bypass", outcome: "allow" })).toBe(1);
    expect(moved("gatehouse_access_decisions_total", { via: "forward_auth", policy: "deny", outcome: "forbidden" })).toBe(1);
    expect(moved("gatehouse_rate_limit_hits_total", { limit: "login" })).toBe(1);
    expect(moved("gatehouse_session_cache_hits_total")).toBeGreaterThanOrEqual(1);
    expect(moved("gatehouse_http_request_duration_seconds_count", { method: "POST", route: "/api/auth/login", status_code: "429" })).toBe(1);
    expect(moved("gatehouse_http_request_duration_seconds_count", { method: "GET", route: "/api/authz/forward-auth", status_code: "403" })).toBe(1);
    expect(sample(after, "gatehouse_hashing_queue_depth")).toBe(0);
    expect(sample(after, "gatehouse_outbox_pending")).toBeGreaterThanOrEqual(0);
  });

  it("attack: label cardinality and data leaks through metrics: no label carries a user name, email, IP, raw URL or query; unknown paths and methods fold into one value", async () => {
    const marker = `leak${randomBytes(6).toString("hex")}`;
    for (let i = 0; i < 20; i++) {
      await h.gh.app.inject({ method: "GET", url: `/api/${marker}/${i}?email=${marker}@example.test`, remoteAddress: `198.51.100.${i + 1}` });
      await h.gh.app.inject({ method: "GET", url: `/${marker}-${i}`, remoteAddress: `2001:db8::${i + 1}` });
    }
    await h.gh.app.inject({ method: "PROPFIND" as "GET", url: `/${marker}` });
    await h.request({ method: "GET", url: `/api/account/sessions/${marker}`, cookie: user.cookie });
    await h.gh.app.inject({ method: "POST", url: "/api/auth/login", remoteAddress: "203.0.113.77", headers: { origin: "https://gw.test", "content-type": "application/json" }, payload: JSON.stringify({ username: `${marker}x`, password: "nope" }) });
    const text = await scrape();
    for (const secret of [marker, user.name, user.id, `${user.name}@example.test`, "198.51.100.", "2001:db8", "203.0.113.77", "127.0.0.1", "email="]) {
      expect(text, secret).not.toContain(secret);
    }
    const routes = new Set(labelValues(text).filter((l) => l.startsWith("route=")).map((l) => l.slice(6)));
    expect(routes.has("unmatched")).toBe(true);
    expect(routes.has("/api/account/sessions/:id") || routes.has("/api/account/sessions/:id".replace(":id", ":id"))).toBe(true);
    for (const route of routes) expect(route === "unmatched" || route.startsWith("/"), route).toBe(true);
    const methods = new Set(labelValues(text).filter((l) => l.startsWith("method=") && !/method=(password|passkey|totp|recovery_code|provider|api_token|other)$/.test(l)));
    for (const m of methods) expect(m).toMatch(/^method=(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|other)$/);
    // Every label of every family is from a small fixed set: 40 distinct unknown URLs added no series.
    expect(new Set(labelValues(text)).size).toBeLessThan(200);
  });

  it("the output passes `promtool check metrics` (Debian's prometheus package)", async () => {
    const text = await scrape();
    const checked = promtool(text);
    if (checked === null) return; // outside CI only (see promtool())
    expect(checked.output).toBe("");
    expect(checked.status).toBe(0);
  });

  it("the bearer comparison: exact token only, whatever the case of the scheme", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN} `, TOKEN)).toBe(true);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.toUpperCase()}`, TOKEN)).toBe(false);
  });
});

describe("METRICS_PORT: /metrics on a separate listener only", () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    h = await startHarness("sqlite", { METRICS: "on", METRICS_PORT: String(port), METRICS_HOST: "127.0.0.1" });
    await h.gh.metricsServer!.listen({ port, host: "127.0.0.1" });
  });
  afterAll(async () => h?.close());

  it("the metrics port serves /metrics (no token set: the listener is the guard) and nothing else; the main port answers /metrics with 404", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain("gatehouse_http_request_duration_seconds");
    for (const path of ["/api/auth/me", "/healthz", "/", "/metrics/x"]) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status, path).toBe(404);
    expect((await h.request({ method: "GET", url: "/metrics" })).statusCode).toBe(404);
    expect(h.gh.app.routeTable.some((r) => r.url === "/metrics")).toBe(false);
    expect(h.gh.metricsServer).not.toBeNull();
    const checked = promtool(text);
    if (checked !== null) expect([checked.status, checked.output]).toEqual([0, ""]);
  });
});

describe("reverse-proxy decisions and Redis availability (METRICS=on, REDIS_URL)", () => {
  let p: ProxyHarness;
  beforeAll(async () => {
    p = await startProxyHarness("sqlite", { METRICS: "on", REDIS_URL });
  });
  afterAll(async () => p?.close());

  it("proxied requests count as via=proxy decisions by policy and outcome; the Redis gauge is 1 while it answers", async () => {
    const scrape = async () => (await p.h.request({ method: "GET", url: "/metrics" })).body;
    const before = await scrape();
    expect((await p.h.gh.app.inject({ method: "GET", url: "/public/logo.png", headers: { host: APP_HOST } })).statusCode).toBe(200);
    expect((await p.h.gh.app.inject({ method: "GET", url: "/dashboard", headers: { host: APP_HOST, accept: "application/json" } })).statusCode).toBe(401);
    const after = await scrape();
    const moved = (labels: Record<string, string>) => sample(after, "gatehouse_access_decisions_total", labels) - sample(before, "gatehouse_access_decisions_total", labels);
    expect(moved({ via: "proxy", policy: "bypass", outcome: "allow" })).toBe(1);
    expect(moved({ via: "proxy", policy: "one_factor", outcome: "unauthenticated" })).toBe(1);
    expect(sample(after, "gatehouse_dependency_up", { dependency: "redis" })).toBe(1);
    expect(sample(after, "gatehouse_dependency_up", { dependency: "database" })).toBe(1);
  });
});

describe("metrics are never public by accident (configuration)", () => {
  const production = { NODE_ENV: "production", SECRET_KEY: randomBytes(32).toString("hex"), PUBLIC_URL: "https://gw.test" };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  };

  it("production with METRICS=on and neither METRICS_TOKEN nor METRICS_PORT refuses to start; either one is enough", () => {
    expect(problems({ ...production, METRICS: "on" }).join("\n")).toMatch(/METRICS=on in production needs METRICS_TOKEN .* or METRICS_PORT/);
    expect(problems({ ...production, METRICS: "on", METRICS_TOKEN: TOKEN })).toEqual([]);
    expect(problems({ ...production, METRICS: "on", METRICS_PORT: "9464" })).toEqual([]);
    expect(problems({ ...production, METRICS: "off" })).toEqual([]);
    expect(problems({ ...production })).toEqual([]);
  });

  it("a short or non-printable METRICS_TOKEN is refused without echoing it; METRICS_PORT must differ from PORT", () => {
    const short = problems({ ...production, METRICS: "on", METRICS_TOKEN: "short-secret" }).join("\n");
    expect(short).toMatch(/METRICS_TOKEN/);
    expect(short).not.toContain("short-secret");
    expect(problems({ ...production, METRICS: "on", METRICS_TOKEN: `${TOKEN} x` }).join("\n")).toMatch(/METRICS_TOKEN/);
    expect(problems({ ...production, METRICS: "on", PORT: "9000", METRICS_PORT: "9000" }).join("\n")).toMatch(/METRICS_PORT must differ from PORT/);
    expect(loadConfig({ ...production, METRICS: "on", METRICS_TOKEN: TOKEN }).metrics).toEqual({ enabled: true, token: TOKEN, port: null, host: "127.0.0.1" });
  });
});
