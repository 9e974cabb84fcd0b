import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { backendNames } from "../helpers/backends.js";
import { ask, PROXY, rulesFile } from "../helpers/forward-auth.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** A rule with a per-user limit, a bypass rule with a per-IP limit, and a rule without limits. */
const rules = (domain: string) => `
access_control:
  default_policy: deny
  rules:
    - domain: ${domain}
      resources: ["^/generate"]
      policy: one_factor
      rate_limit: { per: user, limit: "3/1m" }
    - domain: ${domain}
      resources: ["^/api/"]
      policy: bypass
      rate_limit:
        - per: ip
          limit: 3/1m
    - domain: ${domain}
      policy: one_factor
`;

/** The start of the next whole minute on the manual clock, so every test starts with a fresh window of 60 s. */
function nextMinute(h: Harness): void {
  h.clock.advance(60_000 - (h.clock.now() % 60_000));
}

async function rateLimitedEvents(h: Harness, userId?: string) {
  const page = await h.gh.audit.search({ limit: 200, type: "rate_limited", ...(userId ? { userId } : {}) } as Parameters<typeof h.gh.audit.search>[0]);
  return page.events.filter((e) => typeof e.details.rule === "string");
}

describe.each(backendNames())("rate_limit on forward-auth (%s)", (backend) => {
  let h: Harness;
  let alice: { cookie: string; id: string; name: string };
  let bob: { cookie: string; id: string; name: string };
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(rules("app.example.test")) }, createManualClock(Date.UTC(2026, 0, 5, 9, 0, 0)));
    alice = await h.account("user");
    bob = await h.account("user");
  });
  afterAll(async () => h?.close());
  beforeEach(() => nextMinute(h));

  const statuses = (list: LightMyRequestResponse[]) => list.map((r) => r.statusCode);

  it("per user: 3 allowed, the 4th is 429 with Retry-After and the JSON error; another user and another rule are not affected", async () => {
    h.clock.advance(20_000);
    const answers: LightMyRequestResponse[] = [];
    for (let i = 0; i < 4; i++) answers.push(await ask(h, { uri: "/generate/image", method: "POST", cookie: alice.cookie }));
    expect(statuses(answers)).toEqual([200, 200, 200, 429]);
    const refused = answers[3] as LightMyRequestResponse;
    expect(refused.headers["retry-after"]).toBe("40");
    expect(refused.json()).toEqual({ error: "Too many requests; try again later", code: "rate_limited" });
    expect(refused.headers["remote-user"]).toBeUndefined();
    expect(refused.headers["x-frame-options"]).toBe("DENY");
    expect((await ask(h, { uri: "/generate/image", method: "POST", cookie: bob.cookie })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/dashboard", cookie: alice.cookie })).statusCode).toBe(200);
  });

  it("the window ends: the limit's budget is back when the clock passes it", async () => {
    for (let i = 0; i < 3; i++) await ask(h, { uri: "/generate", cookie: alice.cookie });
    expect((await ask(h, { uri: "/generate", cookie: alice.cookie })).statusCode).toBe(429);
    h.clock.advance(59_999);
    expect((await ask(h, { uri: "/generate", cookie: alice.cookie })).headers["retry-after"]).toBe("1");
    h.clock.advance(1);
    expect((await ask(h, { uri: "/generate", cookie: alice.cookie })).statusCode).toBe(200);
  });

  it("attack: one client cannot use several IPv6 addresses of its /64 to get more; another IP has its own budget", async () => {
    const from = (ip: string) => ask(h, { uri: "/api/items", headers: { "x-forwarded-for": ip } });
    expect(statuses([await from("2001:db8:5:6::1"), await from("2001:db8:5:6::2"), await from("2001:db8:5:6:aaaa::3"), await from("2001:db8:5:6::4")])).toEqual([200, 200, 200, 429]);
    expect((await from("2001:db8:5:7::1")).statusCode).toBe(200);
    expect(statuses([await from("203.0.113.7"), await from("203.0.113.7"), await from("203.0.113.7"), await from("203.0.113.7")])).toEqual([200, 200, 200, 429]);
    expect((await from("203.0.113.8")).statusCode).toBe(200);
    // An anonymous request is an IP's, whatever the rule: the anonymous answer carries empty identity headers.
    expect((await from("203.0.113.8")).headers["remote-user"]).toBe("");
  });

  it("a browser gets a page (Caddy and Traefik relay it); nginx's endpoint answers 403 with Retry-After", async () => {
    for (let i = 0; i < 3; i++) await ask(h, { uri: "/generate", cookie: bob.cookie });
    const page = await ask(h, { uri: "/generate", cookie: bob.cookie, accept: "text/html,application/xhtml+xml" });
    expect(page.statusCode).toBe(429);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["retry-after"]).toBe("60");
    expect(page.body).toContain("<h1>Too many requests</h1>");
    expect(page.headers["content-security-policy"]).toMatch(/^default-src 'none'/);
    const nginx = await ask(h, { endpoint: "auth-request", uri: "/generate", cookie: bob.cookie });
    expect(nginx.statusCode).toBe(403);
    expect(nginx.headers["retry-after"]).toBe("60");
    // A refusal by the rules has no Retry-After: that is how nginx's configuration tells them apart.
    const denied = await ask(h, { endpoint: "auth-request", host: "unknown.test", cookie: bob.cookie });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers["retry-after"]).toBeUndefined();
  });

  it("a client that keeps hitting a limit is audited as rate_limited, sampled: one event for a burst", async () => {
    const carol = await h.account("user");
    for (let i = 0; i < 25; i++) await ask(h, { uri: "/generate", cookie: carol.cookie });
    const events = await rateLimitedEvents(h, carol.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toEqual({ rule: "rule 1 (line 5)", per: "user", limit: "3/1m" });
    expect(events[0]?.ip).toBe(PROXY);
  });
});

describe.each(backendNames())("rate_limit on the reverse proxy (%s)", (backend) => {
  let p: ProxyHarness;
  let cookie: string;
  let other: string;
  const signIn = async (name: string) => {
    const res = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    return sessionCookieFrom(res) as string;
  };
  beforeAll(async () => {
    p = await startProxyHarness(backend, { TRUSTED_PROXIES: "127.0.0.1" }, rules(APP_HOST), createManualClock(Date.UTC(2026, 0, 5, 9, 0, 0)));
    cookie = await signIn((await p.h.account("user")).name);
    other = await signIn((await p.h.account("user")).name);
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    nextMinute(p.h);
    p.upstream.seen.length = 0;
  });

  const get = (url: string, extra: { cookie?: string; headers?: Record<string, string> } = {}) =>
    p.h.request({ method: "GET", url, ...(extra.cookie ? { cookie: extra.cookie } : {}), headers: { host: APP_HOST, ...extra.headers } });

  it("per user: 3 forwarded, the 4th answered 429 by Gatehouse with Retry-After and never forwarded; another user and another rule go on", async () => {
    p.h.clock.advance(30_000);
    const answers = [await get("/generate", { cookie }), await get("/generate", { cookie }), await get("/generate", { cookie }), await get("/generate", { cookie })];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.headers["retry-after"]).toBe("30");
    expect(answers[3]?.json().code).toBe("rate_limited");
    expect(p.upstream.seen).toHaveLength(3);
    expect((await get("/generate", { cookie: other })).statusCode).toBe(200);
    expect((await get("/elsewhere", { cookie })).statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(5);
  });

  it("a browser navigation gets Gatehouse's page, with Retry-After", async () => {
    for (let i = 0; i < 3; i++) await get("/generate", { cookie: other });
    const page = await get("/generate", { cookie: other, headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(429);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["retry-after"]).toBe("60");
    expect(page.body).toContain("Too many requests");
    expect(p.upstream.seen).toHaveLength(3);
  });

  it("per IP on a bypass rule (anonymous): addresses of one IPv6 /64 share a budget, other clients have their own; the window resets", async () => {
    const from = (ip: string) => get("/api/items", { headers: { "x-forwarded-for": ip } });
    expect([await from("2001:db8:9:1::1"), await from("2001:db8:9:1::2"), await from("2001:db8:9:1::3"), await from("2001:db8:9:1::4")].map((r) => r.statusCode)).toEqual([200, 200, 200, 429]);
    expect((await from("2001:db8:9:2::1")).statusCode).toBe(200);
    expect((await from("198.51.100.4")).statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(5);
    p.h.clock.advance(60_000);
    expect((await from("2001:db8:9:1::1")).statusCode).toBe(200);
  });

  it("the refusals are audited once per client and limit", async () => {
    for (let i = 0; i < 10; i++) await get("/api/things", { headers: { "x-forwarded-for": "192.0.2.77" } });
    const events = (await rateLimitedEvents(p.h)).filter((e) => e.ip === "192.0.2.77");
    expect(events).toHaveLength(1);
    expect(events[0]?.details).toEqual({ rule: "rule 2 (line 9)", per: "ip", limit: "3/1m" });
  });
});
