import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Clock } from "../../core/clock.js";
import { GatehouseError, isGatehouseError } from "../../core/errors.js";
import type { BanPolicy } from "../../core/rate-limit/ban-policy.js";
import type { LimiterStore } from "../../core/rate-limit/limiter-store.js";
import type { RouteLimitName, RouteLimits } from "../../core/rate-limit/protection-policy.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The named limit of this route; `/api/` routes default to `api`. */
    rateLimit?: RouteLimitName | false;
  }
}

/** Limits keyed by the client IP; the others key by the signed-in user when there is one. */
const PER_IP: ReadonlySet<RouteLimitName> = new Set(["login", "register", "forgotPassword"]);

function limitOf(request: FastifyRequest): RouteLimitName | null {
  const declared = request.routeOptions.config.rateLimit;
  if (declared === false) return null;
  if (declared !== undefined) return declared;
  return request.url.startsWith("/api/") ? "api" : null;
}

/**
 * The ban fast path (first, before any parsing or hashing) and the per-route
 * fixed-window limits (after the session is known, so signed-in clients are
 * keyed by user, not by a shared NAT or proxy address). A 429 carries
 * `Retry-After` and counts as a trip toward an automated ban.
 */
export const banFastPathPlugin = fp(
  async (app: FastifyInstance, opts: { bans: BanPolicy }) => {
    app.addHook("onRequest", async (request) => {
      let remaining: number;
      try {
        remaining = await opts.bans.banRemainingMs(request.ip);
      } catch (err) {
        // Health probes grant nothing, so they stay answerable when the ban store is down; everything else fails closed.
        if (request.routeOptions.config.rateLimit === false && isGatehouseError(err, "unavailable")) return;
        throw err;
      }
      if (remaining > 0) throw new GatehouseError("rate_limited", { retryAfter: remaining / 1000 });
    });
  },
  { name: "ban-fast-path" },
);

/** Per-route limits; registered after the session plugin. */
export const routeLimitsPlugin = fp(
  async (app: FastifyInstance, opts: { store: LimiterStore; bans: BanPolicy; limits: RouteLimits; clock: Clock }) => {
    app.addHook("onRequest", async (request) => {
      if (request.is404) return;
      const name = limitOf(request);
      if (name === null) return;
      const { limit, windowMs } = opts.limits[name];
      const who = !PER_IP.has(name) && request.auth ? `user:${request.auth.user.id}` : `ip:${request.ip}`;
      const now = opts.clock.now();
      const count = await opts.store.hit(`route:${name}:${who}`, windowMs, now);
      if (count > limit) {
        const ua = request.headers["user-agent"];
        await opts.bans.trip({ ip: request.ip, userAgent: typeof ua === "string" ? ua : "", requestId: request.id, limit: name });
        throw new GatehouseError("rate_limited", { retryAfter: (windowMs - (now % windowMs)) / 1000 });
      }
    });
  },
  { name: "route-limits", dependencies: ["session"] },
);
