import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { banKeysFor, createClientKey, type ClientKey } from "./client-key.js";
import type { LimiterStore } from "./limiter-store.js";
import type { ProtectionPolicy } from "./protection-policy.js";
import { noMetrics, type Metrics } from "../metrics/metrics.js";

/** Where a trip happened, for the audit trail. */
export interface TripContext {
  ip: string;
  userAgent: string;
  requestId?: string;
  /** Which limit was hit (e.g. `login`, `ip_failures`). */
  limit: string;
  /**
   * False for refusals an attacker can cause for someone else (an account's
   * brute-force delays): they are audited but never count toward banning the
   * IP, or an attacker could get the real user's IP banned (RL-03).
   */
  countsTowardBan?: boolean;
}

/**
 * Automated responses: counts limit trips per client and bans repeat
 * offenders. A client is an IPv4 address or an IPv6 network
 * ({@link createClientKey}): a ban of one address of a /64 bans the /64, and
 * {@link list} names it so (`2001:db8:1:2::/64`). Audit events keep the full
 * address that tripped.
 */
export interface BanPolicy {
  /** Records that `ip` tripped a limit; bans its client key on the `trips`th trip within the window. */
  trip(context: TripContext): Promise<void>;
  /** Milliseconds left on the ban covering `ip`, or 0. */
  banRemainingMs(ip: string): Promise<number>;
  /** The same answer without a promise when the store is in-process; undefined when it must be awaited (Redis). */
  banRemainingMsNow(ip: string): number | undefined;
  /** Bans in force (for the admin API), each named by its client key. */
  list(): ReturnType<LimiterStore["listBans"]>;
  /**
   * Lifts a ban (for the admin API): `target` is the listed name (an IPv4
   * address or an IPv6 network such as `2001:db8:1:2::/64`) or any address it
   * covers; false when there was none.
   */
  lift(target: string): Promise<boolean>;
}

/** Creates the {@link BanPolicy}. */
export function createBanPolicy(deps: { store: LimiterStore; clock: Clock; audit: AuditLog; policy: ProtectionPolicy; metrics?: Metrics }): BanPolicy {
  const { store, clock, audit, policy } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const keyOf: ClientKey = createClientKey(policy.ipv6PrefixLength);
  return {
    async trip(ctx) {
      // Every refusal by a limit passes here (route limits, brute-force delays): one hit, by the limit's name.
      metrics.limitHit(ctx.limit);
      const now = clock.now();
      const counts = ctx.countsTowardBan !== false;
      const client = keyOf(ctx.ip);
      const trips = await store.hit(`${counts ? "trips" : "notices"}:${client}`, policy.bans.windowMs, now);
      const base = { ip: ctx.ip, userAgent: ctx.userAgent, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
      // One rate_limited event per IP and window, not one per refused request: an attack must not flood the audit table.
      if (trips === 1) await audit.record({ type: "rate_limited", details: { limit: ctx.limit }, ...base });
      if (counts && trips === policy.bans.trips) {
        const until = now + policy.bans.banMs;
        await store.ban(client, until);
        // `ip` stays the address that tripped; `banned` names what the ban covers when that is a network.
        const details: Record<string, string | number> = { until: new Date(until).toISOString(), trips };
        if (client !== ctx.ip) details.banned = client;
        await audit.record({ type: "ip_banned", details, ...base });
      }
    },
    async banRemainingMs(ip) {
      const now = clock.now();
      const until = await store.bannedUntil(keyOf(ip), now);
      return until === null ? 0 : until - now;
    },
    banRemainingMsNow(ip) {
      if (store.inProcess === undefined) return undefined;
      const now = clock.now();
      const until = store.inProcess.bannedUntil(keyOf(ip), now);
      return until === null ? 0 : until - now;
    },
    list: () => store.listBans(clock.now()),
    async lift(target) {
      let lifted = false;
      for (const key of banKeysFor(target, keyOf)) if (await store.liftBan(key)) lifted = true;
      return lifted;
    },
  };
}
