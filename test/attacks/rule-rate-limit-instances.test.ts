import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { backendNames, REDIS_URL, redisTestPrefix } from "../helpers/backends.js";
import { ask, PROXY } from "../helpers/forward-auth.js";
import { type Harness } from "../helpers/harness.js";
import { APP_HOST, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** The done-when rule of the issue: 20 per minute, per user on one path and per IP on another. */
const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: ${APP_HOST}
      resources: ["^/generate"]
      policy: one_factor
      rate_limit: { per: user, limit: "20/1m" }
    - domain: ${APP_HOST}
      resources: ["^/api/"]
      policy: bypass
      rate_limit: [{ per: ip, limit: "20/1m" }]
    - domain: ${APP_HOST}
      policy: one_factor
`;

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe.each(backendNames())("attack: spreading requests across instances does not multiply a rule's rate_limit (two Gatehouses, one Redis) (%s)", (backend) => {
  let pa: ProxyHarness;
  let pb: ProxyHarness;
  let a: Harness;
  let b: Harness;
  let user: { cookie: string; id: string; name: string };
  // One deployment: one database, one Redis prefix, and (for the test) one clock, so both count in the same window.
  const clock = createManualClock(Date.UTC(2026, 0, 5, 9, 0, 0));
  const env = { REDIS_URL, REDIS_PREFIX: redisTestPrefix(), TRUSTED_PROXIES: `127.0.0.1,${PROXY}` };

  beforeAll(async () => {
    pa = await startProxyHarness(backend, env, RULES, clock);
    pb = await startProxyHarness(backend, env, RULES, clock, { sharedBackend: pa.h.backend });
    a = pa.h;
    b = pb.h;
    user = await a.account("user");
  });
  afterAll(async () => {
    await pb?.close();
    await pa?.close();
  });
  beforeEach(() => {
    clock.advance(60_000 - (clock.now() % 60_000) + 5_000);
    pa.upstream.seen.length = 0;
    pb.upstream.seen.length = 0;
  });

  it("forward-auth, per user: 40 concurrent requests over both instances → exactly 20 allowed, 20 × 429 with Retry-After", async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(i % 2 === 0 ? a : b, { host: APP_HOST, uri: "/generate/image", method: "POST", cookie: user.cookie })));
    const statuses = answers.map((r) => r.statusCode);
    expect(count(statuses, 200)).toBe(20);
    expect(count(statuses, 429)).toBe(20);
    for (const r of answers.filter((x) => x.statusCode === 429)) expect(r.headers["retry-after"]).toBe("55");
    // Each instance answered 20 of the 40: had either kept a budget of its own, more than 20 would have passed.
    // (Which instance's requests took the 20 slots depends on scheduling, so it is not asserted.)
  });

  it("reverse proxy, per IP: 40 concurrent requests over both instances → exactly 20 forwarded, 20 × 429 answered by Gatehouse", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).request({ method: "GET", url: `/api/items/${i}`, headers: { host: APP_HOST, "x-forwarded-for": "203.0.113.40" } })),
    );
    const statuses = answers.map((r) => r.statusCode);
    expect(count(statuses, 200)).toBe(20);
    expect(count(statuses, 429)).toBe(20);
    expect(pa.upstream.seen.length + pb.upstream.seen.length).toBe(20);
    // Another client has its own 20, on either instance.
    expect((await b.request({ method: "GET", url: "/api/items", headers: { host: APP_HOST, "x-forwarded-for": "203.0.113.41" } })).statusCode).toBe(200);
  });

  it("forward-auth and the reverse proxy share one budget, and the flood is audited once for both instances", async () => {
    const ip = "198.51.100.60";
    const viaProxy = await Promise.all(Array.from({ length: 15 }, () => a.request({ method: "GET", url: "/api/x", headers: { host: APP_HOST, "x-forwarded-for": ip } })));
    const viaForwardAuth = await Promise.all(Array.from({ length: 15 }, () => ask(b, { host: APP_HOST, uri: "/api/x", headers: { "x-forwarded-for": ip } })));
    const statuses = [...viaProxy, ...viaForwardAuth].map((r) => r.statusCode);
    expect(count(statuses, 200)).toBe(20);
    expect(count(statuses, 429)).toBe(10);
    const page = await a.gh.audit.search({ limit: 200, type: "rate_limited" } as Parameters<typeof a.gh.audit.search>[0]);
    expect(page.events.filter((e) => e.ip === ip)).toHaveLength(1);
  });
});
