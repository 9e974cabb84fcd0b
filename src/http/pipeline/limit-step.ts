import type { FastifyRequest, onRequestHookHandler } from "fastify";
import type { Clock } from "../../core/clock.js";
import { GatehouseError } from "../../core/errors.js";
import type { BanPolicy } from "../../core/rate-limit/ban-policy.js";
import type { ClientKey } from "../../core/rate-limit/client-key.js";
import type { LimiterStore } from "../../core/rate-limit/limiter-store.js";
import type { RouteLimitName, RouteLimits } from "../../core/rate-limit/protection-policy.js";

/** Limits keyed by the client IP; the others key by the signed-in user when there is one. */
const PER_IP: ReadonlySet<RouteLimitName> = new Set(["login", "register", "forgotPassword"]);

/** What the limit step needs. */
export interface LimitStepOptions {
  store: LimiterStore;
  bans: BanPolicy;
  limits: RouteLimits;
  clock: Clock;
  clientKey: ClientKey;
}

/**
 * Builds the per-route fixed-window limit step. It runs after the session
 * step, so signed-in clients are keyed by user, not by a shared NAT or
 * proxy address. A 429 carries `Retry-After` and counts as a trip toward an
 * automated ban.
 */
export function createLimitStep(opts: LimitStepOptions): (name: RouteLimitName) => onRequestHookHandler {
  const { inProcess } = opts.store;

  async function refuse(request: FastifyRequest, name: RouteLimitName, windowMs: number, now: number): Promise<never> {
    const ua = request.headers["user-agent"];
    await opts.bans.trip({ ip: request.ip, userAgent: typeof ua === "string" ? ua : "", requestId: request.id, limit: name });
    throw new GatehouseError("rate_limited", { retryAfter: (windowMs - (now % windowMs)) / 1000 });
  }

  return (name) => {
    const perIp = PER_IP.has(name);
    return function countRouteLimit(request, _reply, done) {
      const { limit, windowMs } = opts.limits[name];
      // Per client: an IPv4 address or an IPv6 network (createClientKey), never a rotating IPv6 address.
      const who = !perIp && request.auth ? `user:${request.auth.user.id}` : `ip:${opts.clientKey(request.ip)}`;
      const key = `route:${name}:${who}`;
      const now = opts.clock.now();
      // Callback-style: an in-process counter under its limit answers without a promise.
      if (inProcess !== undefined) {
        let count: number;
        try {
          count = inProcess.hit(key, windowMs, now);
        } catch (err) {
          // A full in-process store refuses new keys (503 unavailable) rather than forget old ones.
          return done(err as Error);
        }
        if (count <= limit) return done();
        refuse(request, name, windowMs, now).catch((err: unknown) => done(err as Error));
        return;
      }
      opts.store
        .hit(key, windowMs, now)
        .then((count) => (count > limit ? refuse(request, name, windowMs, now) : undefined))
        .then(
          () => done(),
          (err: unknown) => done(err as Error),
        );
    };
  };
}
