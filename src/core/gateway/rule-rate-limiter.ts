import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { noMetrics, type Metrics } from "../metrics/metrics.js";
import type { ClientKey } from "../rate-limit/client-key.js";
import type { LimiterStore } from "../rate-limit/limiter-store.js";
import type { RuleRateLimit } from "./access-rules.js";
import type { MatchedRateLimits } from "./access-decision.js";

/** Who sent an allowed request, for the counters and the audit trail. */
export interface RuleLimitClient {
  /** The client address (already resolved through TRUSTED_PROXIES). */
  ip: string;
  /** The signed-in user's id, or null for an anonymous request (a bypass rule). */
  userId: string | null;
  userAgent: string;
  requestId?: string;
}

/** A request refused by one of its rule's limits. */
export interface RuleLimitRefusal {
  /** Whole seconds until the window of the (longest-waiting) exceeded limit ends, at least 1: the `Retry-After`. */
  retryAfter: number;
}

/**
 * Counts the requests that access rules with `rate_limit` allow, on the
 * shared {@link LimiterStore} (atomic per key, across instances on Redis).
 */
export interface RuleRateLimiter {
  /**
   * Counts one request against every limit of the matched rule and returns
   * null when all are within their budget, or the refusal when one is over.
   * A refused request counts too (like the API's own limits): a client that
   * keeps sending stays refused until the window ends. A store failure
   * propagates (503 `unavailable` through `failClosed`), never an allow.
   */
  check(limits: MatchedRateLimits, client: RuleLimitClient): Promise<RuleLimitRefusal | null>;
}

/** `20/1m`, `5/1h`: a limit as written in the rules file (the window in its largest whole unit). */
export function formatRuleLimit(limit: Pick<RuleRateLimit, "limit" | "windowMs">): string {
  const units: [string, number][] = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]];
  for (const [unit, ms] of units) if (limit.windowMs % ms === 0) return `${limit.limit}/${limit.windowMs / ms}${unit}`;
  return `${limit.limit}/${limit.windowMs}ms`;
}

/** How long one client's refusals by one limit make one `rate_limited` audit event. */
const NOTICE_WINDOW_MS = 10 * 60_000;

/**
 * Creates the {@link RuleRateLimiter}. Keys are `rule:<rule id>:<limit
 * index>:user:<id>` or `…:ip:<client key>`; the rule id comes from the rule's
 * position and content, so an edited rule starts with fresh counters.
 *
 * A client refused by a limit is audited as `rate_limited` (details: the rule's
 * origin, `per`, and the limit as `20/1m`) once per client, limit and 10 minutes,
 * counted in the shared store too, so a flood spread over several instances
 * still makes one event. These refusals never count toward an automated IP
 * ban: an app's own limit (image generation per user) is not an attack on
 * Gatehouse, and a per-user limit behind a shared address must not ban the
 * others behind it.
 */
export function createRuleRateLimiter(deps: { store: LimiterStore; clock: Clock; audit: AuditLog; clientKey: ClientKey; metrics?: Metrics; onAuditError?: (err: unknown) => void }): RuleRateLimiter {
  const { store, clock, audit, clientKey } = deps;
  const metrics = deps.metrics ?? noMetrics;
  return {
    async check(matched, client) {
      const now = clock.now();
      const whoOf = (limit: RuleRateLimit) => (limit.per === "user" && client.userId !== null ? `user:${client.userId}` : `ip:${clientKey(client.ip)}`);
      const counts = await Promise.all(matched.limits.map((limit, i) => store.hit(`rule:${matched.rule}:${i}:${whoOf(limit)}`, limit.windowMs, now)));
      let retryAfterMs = 0;
      const exceeded: number[] = [];
      matched.limits.forEach((limit, i) => {
        if ((counts[i] ?? 0) <= limit.limit) return;
        exceeded.push(i);
        retryAfterMs = Math.max(retryAfterMs, limit.windowMs - (now % limit.windowMs));
      });
      if (exceeded.length === 0) return null;
      metrics.limitHit("access_rule");
      for (const i of exceeded) {
        const limit = matched.limits[i] as RuleRateLimit;
        const notices = await store.hit(`rule-notice:${matched.rule}:${i}:${whoOf(limit)}`, NOTICE_WINDOW_MS, now);
        if (notices !== 1) continue;
        // Awaited (like the ban policy's events), but a failing audit write never turns the 429 into a 500.
        await audit
          .record({
            type: "rate_limited",
            userId: client.userId,
            ip: client.ip,
            userAgent: client.userAgent.slice(0, 512),
            ...(client.requestId ? { requestId: client.requestId } : {}),
            details: { rule: matched.origin, per: limit.per, limit: formatRuleLimit(limit) },
          })
          .catch((err: unknown) => deps.onAuditError?.(err));
      }
      return { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
    },
  };
}
