import type { onRequestHookHandler } from "fastify";
import { GatehouseError, isGatehouseError } from "../../core/errors.js";
import type { BanPolicy } from "../../core/rate-limit/ban-policy.js";
import { noMetrics, type Metrics } from "../../core/metrics/metrics.js";

/**
 * Builds the ban check, the first step of every request (404s included),
 * before any parsing or hashing: a banned client gets 429 with
 * `Retry-After`. Routes that grant nothing (health probes, assets) stay
 * answerable when the ban store is down; everything else, forward-auth
 * included, fails closed.
 */
export function createBanStep(bans: BanPolicy, metrics: Metrics = noMetrics): onRequestHookHandler {
  const banned = (remainingMs: number) => {
    metrics.bannedRequest();
    return new GatehouseError("rate_limited", { retryAfter: remainingMs / 1000 });
  };
  return function checkBan(request, _reply, done) {
    // With the in-process store the answer needs no promise (docs/performance.md).
    const now = bans.banRemainingMsNow(request.ip);
    if (now !== undefined) return done(now > 0 ? banned(now) : undefined);
    bans.banRemainingMs(request.ip).then(
      (remaining) => done(remaining > 0 ? banned(remaining) : undefined),
      (err: unknown) => {
        if (request.routeOptions.config.grantsNothing === true && isGatehouseError(err, "unavailable")) return done();
        done(err as Error);
      },
    );
  };
}
