import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import type { LimiterStore } from "./limiter-store.js";
import type { ProtectionPolicy } from "./protection-policy.js";

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

/** Automated responses: counts limit trips per IP and bans repeat offenders. */
export interface BanPolicy {
  /** Records that `ip` tripped a limit; bans it on the `trips`th trip within the window. */
  trip(context: TripContext): Promise<void>;
  /** Milliseconds left on `ip`'s ban, or 0. */
  banRemainingMs(ip: string): Promise<number>;
  /** The same answer without a promise when the store is in-process; undefined when it must be awaited (Redis). */
  banRemainingMsNow(ip: string): number | undefined;
  /** Bans in force (for the admin API). */
  list(): ReturnType<LimiterStore["listBans"]>;
  /** Lifts a ban (for the admin API); false when there was none. */
  lift(ip: string): Promise<boolean>;
}

/** Creates the {@link BanPolicy}. */
export function createBanPolicy(deps: { store: LimiterStore; clock: Clock; audit: AuditLog; policy: ProtectionPolicy }): BanPolicy {
  const { store, clock, audit, policy } = deps;
  return {
    async trip(ctx) {
      const now = clock.now();
      const counts = ctx.countsTowardBan !== false;
      const trips = await store.hit(`${counts ? "trips" : "notices"}:${ctx.ip}`, policy.bans.windowMs, now);
      const base = { ip: ctx.ip, userAgent: ctx.userAgent, ...(ctx.requestId ? { requestId: ctx.requestId } : {}) };
      // One rate_limited event per IP and window, not one per refused request: an attack must not flood the audit table.
      if (trips === 1) await audit.record({ type: "rate_limited", details: { limit: ctx.limit }, ...base });
      if (counts && trips === policy.bans.trips) {
        const until = now + policy.bans.banMs;
        await store.ban(ctx.ip, until);
        await audit.record({ type: "ip_banned", details: { until: new Date(until).toISOString(), trips }, ...base });
      }
    },
    async banRemainingMs(ip) {
      const now = clock.now();
      const until = await store.bannedUntil(ip, now);
      return until === null ? 0 : until - now;
    },
    banRemainingMsNow(ip) {
      if (store.inProcess === undefined) return undefined;
      const now = clock.now();
      const until = store.inProcess.bannedUntil(ip, now);
      return until === null ? 0 : until - now;
    },
    list: () => store.listBans(clock.now()),
    lift: (ip) => store.liftBan(ip),
  };
}
