import { describe, expect, it } from "vitest";
import { auditMetrics } from "../../src/core/metrics/audit-metrics.js";
import { noMetrics, type Metrics } from "../../src/core/metrics/metrics.js";
import { createBoundedHasher } from "../../src/core/passwords/bounded-hasher.js";
import type { AuditEvent } from "../../src/core/audit/audit-event.js";
import type { PasswordHasher } from "../../src/core/passwords/password-hasher.js";
import { createPrometheusMetrics } from "../../src/http/metrics/prometheus-metrics.js";

/** A {@link Metrics} double recording every call. */
function recorder(): Metrics & { calls: string[] } {
  const calls: string[] = [];
  const rec = (name: string) => (...args: unknown[]) => void calls.push([name, ...args.map(String)].join(" "));
  const m = Object.fromEntries(Object.keys(noMetrics).map((k) => [k, rec(k)])) as unknown as Metrics;
  return Object.assign(m, { calls });
}

const event = (type: AuditEvent["type"], details: AuditEvent["details"] = {}): AuditEvent => ({
  id: "e", type, at: 0, userId: "u-1", actorId: null, ip: "192.0.2.1", userAgent: "ua", requestId: null, details,
});

describe("the Metrics port", () => {
  it("audit events become sign-in outcomes by method, and bans; a re-authentication's wrong password is not a sign-in", () => {
    const m = recorder();
    const sink = auditMetrics(m);
    sink(event("login_success", { method: "password", aal: "aal1" }));
    sink(event("login_success", { method: "hardware_key" }));
    sink(event("login_success", { method: "provider" }));
    sink(event("login_failure", { reason: "wrong_password" }));
    sink(event("login_failure", { reason: "passkey_rejected", method: "passkey" }));
    sink(event("login_failure", { reason: "wrong_current_password" }));
    sink(event("login_failure", { reason: "unknown", method: "api_token" }));
    sink(event("mfa_failure", { method: "totp" }));
    sink(event("mfa_failure", { method: "recovery_code" }));
    sink(event("mfa_failure", { method: "someone@example.test" }));
    sink(event("oauth_failure", { provider: "corp", reason: "invalid_id_token" }));
    sink(event("ip_banned", { until: "x" }));
    sink(event("logout"));
    expect(m.calls).toEqual([
      "signIn password success",
      "signIn passkey success",
      "signIn provider success",
      "signIn password failure",
      "signIn passkey failure",
      "signIn api_token failure",
      "signIn totp failure",
      "signIn recovery_code failure",
      "signIn other failure",
      "signIn provider failure",
      "ban",
    ]);
  });

  it("the bounded hasher reports its queue depth and every shed hash", async () => {
    const m = recorder();
    const releases: (() => void)[] = [];
    const slow: PasswordHasher = {
      hash: () => new Promise((resolve) => releases.push(() => resolve("h"))),
      verify: () => Promise.resolve(true),
      needsRehash: () => false,
      verifyDummy: () => Promise.resolve(),
    };
    const hasher = createBoundedHasher(slow, { maxInFlight: 1, maxQueue: 1 }, m);
    const first = hasher.hash("a");
    const second = hasher.hash("b");
    await expect(hasher.hash("c")).rejects.toMatchObject({ code: "overloaded" });
    releases.shift()!();
    await first;
    await new Promise((r) => setImmediate(r));
    releases.shift()!();
    await second;
    expect(m.calls).toEqual(["hashingQueue 1", "hashingShed", "hashingQueue 0"]);
  });

  it("attack: label cardinality through a caller's value: an unexpected limit name or HTTP method folds into `other`", async () => {
    const p = createPrometheusMetrics();
    p.metrics.limitHit("login");
    p.metrics.limitHit("user:1234 198.51.100.7");
    p.observeRequest("BREW", "unmatched", 404, 0.001);
    const text = await p.render();
    expect(text).toContain('gatehouse_rate_limit_hits_total{limit="login"} 1');
    expect(text).toContain('gatehouse_rate_limit_hits_total{limit="other"} 1');
    expect(text).not.toContain("198.51.100.7");
    expect(text).toContain('method="other",route="unmatched",status_code="404"');
    expect(text).not.toContain("BREW");
  });
});
