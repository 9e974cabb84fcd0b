import { describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import { createRuleRateLimiter, formatRuleLimit } from "../../src/core/gateway/rule-rate-limiter.js";
import type { MatchedRateLimits } from "../../src/core/gateway/access-decision.js";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import type { NewAuditEvent } from "../../src/core/audit/audit-event.js";
import { createManualClock } from "../../src/core/clock.js";
import { createClientKey } from "../../src/core/rate-limit/client-key.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { failClosed } from "../../src/core/rate-limit/fail-closed-store.js";
import type { LimiterStore } from "../../src/core/rate-limit/limiter-store.js";
import { noMetrics } from "../../src/core/metrics/metrics.js";
import { isGatehouseError } from "../../src/core/errors.js";

function problemsOf(text: string): string[] {
  try {
    parseRulesFile(text);
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  throw new Error("the file was accepted");
}

/** One rule on a.test with `rate_limit` written as `value` (indented under the key). */
const withLimit = (value: string, policy = "one_factor") => `access_control:
  rules:
    - domain: a.test
      policy: ${policy}
      rate_limit: ${value}
`;

describe("rate_limit in the rules file (Gatehouse extension)", () => {
  it("accepts one {per, limit} mapping or a list of them, with windows from 1s to 1d", () => {
    const one = parseRulesFile(withLimit(`{ per: user, limit: "20/1m" }`));
    expect(one.rules[0]?.rateLimits).toEqual([{ per: "user", limit: 20, windowMs: 60_000 }]);
    const list = parseRulesFile(withLimit(`\n        - per: ip\n          limit: 120/1m\n        - per: user\n          limit: "5 / 1h"\n        - { per: ip, limit: 1/1s }\n        - { per: ip, limit: 1000000/1d }\n        - { per: ip, limit: 3/15m }\n        - { per: ip, limit: 7/10s }`));
    expect(list.rules[0]?.rateLimits).toEqual([
      { per: "ip", limit: 120, windowMs: 60_000 },
      { per: "user", limit: 5, windowMs: 3_600_000 },
      { per: "ip", limit: 1, windowMs: 1000 },
      { per: "ip", limit: 1_000_000, windowMs: 86_400_000 },
      { per: "ip", limit: 3, windowMs: 900_000 },
      { per: "ip", limit: 7, windowMs: 10_000 },
    ]);
    // Also on bypass rules (per user then counts an anonymous request per IP).
    expect(parseRulesFile(withLimit(`{ per: user, limit: "10/1m" }`, "bypass")).rules[0]?.rateLimits).toHaveLength(1);
    expect(parseRulesFile("access_control:\n  rules:\n    - domain: a.test\n      policy: bypass\n").rules[0]?.rateLimits).toBeUndefined();
  });

  it("refuses every invalid form, each with its line", () => {
    const cases: [string, RegExp][] = [
      [`{ per: group, limit: "20/1m" }`, /^rule 1 \(line 2\)|line 5: `rate_limit` `per` must be `user` or `ip`/],
      [`{ limit: "20/1m" }`, /line 5: `rate_limit` `per` must be/],
      [`{ per: ip }`, /line 5: `rate_limit` `limit` must be "<count>\/<window>"/],
      [`{ per: ip, limit: "0/1m" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "1000001/1m" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/0s" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/2d" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/25h" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/500ms" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/m" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: 20 }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "-1/1m" }`, /line 5: `rate_limit` `limit` must be/],
      [`{ per: ip, limit: "20/1m", burst: 5 }`, /line 5: unknown key `burst` \(allowed: per, limit\)/],
      [`"20/1m"`, /line 5: each `rate_limit` needs `per` \(user or ip\) and `limit`/],
      [`[]`, /line 5: `rate_limit` must be a \{per, limit\} mapping or a list of 1 to 8/],
    ];
    for (const [value, expected] of cases) {
      const problems = problemsOf(withLimit(value));
      expect(problems.some((p) => expected.test(p)), `${value}: ${problems.join(" | ")}`).toBe(true);
    }
    const nine = `\n${Array.from({ length: 9 }, () => "        - { per: ip, limit: 1/1m }").join("\n")}`;
    expect(problemsOf(withLimit(nine))[0]).toMatch(/line 6: `rate_limit` must be a \{per, limit\} mapping or a list of 1 to 8/);
    // A list item on its own line is reported on that line.
    expect(problemsOf(withLimit(`\n        - { per: ip, limit: 1/1m }\n        - { per: someone, limit: 1/1m }`))[0]).toMatch(/^line 7: `rate_limit` `per`/);
    expect(problemsOf(withLimit(`{ per: ip, limit: "20/1m" }`, "deny"))[0]).toMatch(/rule 1 \(line 3\): a `deny` rule lets nothing through/);
    expect(problemsOf("access_control:\n  rules:\n    - domain: a.test\n      policy: bypass\n      rate_limit:\n")[0]).toMatch(/line 5: each `rate_limit` needs `per`/);
  });

  it("a rule's id follows its position and content, not its comments or spacing", () => {
    const a = parseRulesFile(withLimit(`{ per: ip, limit: "20/1m" }`)).rules[0]?.id;
    const same = parseRulesFile(`# edited comment\naccess_control:\n  rules:\n    - domain:   a.test   # app\n      policy: one_factor\n      rate_limit: {per: ip,   limit: 20/1m}\n`).rules[0]?.id;
    const changed = parseRulesFile(withLimit(`{ per: ip, limit: "21/1m" }`)).rules[0]?.id;
    const moved = parseRulesFile(`access_control:\n  rules:\n    - domain: b.test\n      policy: bypass\n    - domain: a.test\n      policy: one_factor\n      rate_limit: { per: ip, limit: "20/1m" }\n`).rules[1]?.id;
    expect(a).toMatch(/^[\w-]{16}$/);
    expect(same).toBe(a);
    expect(new Set([a, changed, moved]).size).toBe(3);
  });

  it("the allow decision carries the matched rule's limits; other rules carry none", () => {
    const rules = parseRulesFile(`access_control:
  rules:
    - domain: a.test
      resources: ["^/generate"]
      policy: bypass
      rate_limit: { per: user, limit: "20/1m" }
    - domain: a.test
      policy: bypass
`);
    const gate = createAccessGate({ publicUrl: "https://gw.test", rules });
    const at = (uri: string) => gate.decide({ method: "GET", proto: "https", host: "a.test", uri, ip: "192.0.2.1" }, null);
    expect(at("/generate")).toMatchObject({ kind: "allow", rateLimits: { rule: rules.rules[0]?.id, origin: "rule 1 (line 3)", limits: [{ per: "user", limit: 20, windowMs: 60_000 }] } });
    expect(at("/other")).not.toHaveProperty("rateLimits");
  });

  it("formats a limit as written", () => {
    expect([60_000, 3_600_000, 86_400_000, 10_000, 900_000].map((windowMs) => formatRuleLimit({ limit: 5, windowMs }))).toEqual(["5/1m", "5/1h", "5/1d", "5/10s", "5/15m"]);
  });
});

describe("the rule rate limiter (memory store)", () => {
  const matched = (limits: MatchedRateLimits["limits"]): MatchedRateLimits => ({ rule: "r1", origin: "rule 1 (line 3)", limits });
  const setup = () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const events: NewAuditEvent[] = [];
    const audit = { record: async (e: NewAuditEvent) => (events.push(e), e) } as unknown as AuditLog;
    const limiter = createRuleRateLimiter({ store: createMemoryLimiterStore(), clock, audit, clientKey: createClientKey(64) });
    return { clock, events, limiter };
  };
  const client = (ip: string, userId: string | null = null) => ({ ip, userId, userAgent: "ua" });

  it("allows `limit` requests per window, refuses the next with the seconds left, and resets with the window", async () => {
    const { clock, limiter } = setup();
    const m = matched([{ per: "ip", limit: 3, windowMs: 60_000 }]);
    clock.advance(15_000);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limiter.check(m, client("192.0.2.1")));
    expect(answers).toEqual([null, null, null, { retryAfter: 45 }]);
    clock.advance(45_000);
    expect(await limiter.check(m, client("192.0.2.1"))).toBeNull();
  });

  it("counts per user, and an anonymous request of a per-user limit per IP; one IPv6 /64 is one client", async () => {
    const { limiter } = setup();
    const m = matched([{ per: "user", limit: 1, windowMs: 60_000 }]);
    expect(await limiter.check(m, client("192.0.2.1", "u1"))).toBeNull();
    expect(await limiter.check(m, client("192.0.2.1", "u2"))).toBeNull();
    expect(await limiter.check(m, client("192.0.2.1", "u1"))).not.toBeNull();
    expect(await limiter.check(m, client("192.0.2.1"))).toBeNull();
    expect(await limiter.check(m, client("192.0.2.1"))).not.toBeNull();
    const byIp = matched([{ per: "ip", limit: 1, windowMs: 60_000 }]);
    expect(await limiter.check(byIp, client("2001:db8:1:2::1"))).toBeNull();
    expect(await limiter.check(byIp, client("2001:db8:1:2:ffff::9"))).not.toBeNull();
    expect(await limiter.check(byIp, client("2001:db8:1:3::1"))).toBeNull();
  });

  it("audits a client that keeps hitting a limit once per 10 minutes, with the rule, per and limit", async () => {
    const { clock, events, limiter } = setup();
    const m = matched([{ per: "user", limit: 1, windowMs: 60_000 }]);
    for (let i = 0; i < 6; i++) await limiter.check(m, client("192.0.2.1", "u1"));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "rate_limited", userId: "u1", ip: "192.0.2.1", details: { rule: "rule 1 (line 3)", per: "user", limit: "1/1m" } });
    clock.advance(10 * 60_000);
    for (let i = 0; i < 3; i++) await limiter.check(m, client("192.0.2.1", "u1"));
    expect(events).toHaveLength(2);
  });

  it("counts each refusal in the metrics under `access_rule`", async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
    const hits: string[] = [];
    const audit = { record: async (e: NewAuditEvent) => e } as unknown as AuditLog;
    const limiter = createRuleRateLimiter({ store: createMemoryLimiterStore(), clock, audit, clientKey: createClientKey(64), metrics: { ...noMetrics, limitHit: (name: string) => void hits.push(name) } });
    const m = matched([{ per: "ip", limit: 1, windowMs: 60_000 }]);
    for (let i = 0; i < 3; i++) await limiter.check(m, client("192.0.2.1"));
    expect(hits).toEqual(["access_rule", "access_rule"]);
  });

  it("fails closed: a store that cannot answer refuses with 503 unavailable, never an allow", async () => {
    const clock = createManualClock();
    const broken = { ...createMemoryLimiterStore(), inProcess: undefined, hit: () => Promise.reject(new Error("ECONNREFUSED")) } as unknown as LimiterStore;
    const limiter = createRuleRateLimiter({ store: failClosed(broken), clock, audit: { record: async () => undefined } as unknown as AuditLog, clientKey: createClientKey(64) });
    const err = await limiter.check(matched([{ per: "ip", limit: 5, windowMs: 60_000 }]), client("192.0.2.1")).catch((e: unknown) => e);
    expect(isGatehouseError(err, "unavailable")).toBe(true);
  });
});
