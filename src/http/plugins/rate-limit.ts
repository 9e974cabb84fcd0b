import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { Clock } from "../../core/clock.js";
import { GatehouseError, isGatehouseError } from "../../core/errors.js";
import type { BanPolicy } from "../../core/rate-limit/ban-policy.js";
import type { ClientKey } from "../../core/rate-limit/client-key.js";
import type { LimiterStore } from "../../core/rate-limit/limiter-store.js";
import type { RouteLimitName, RouteLimits } from "../../core/rate-limit/protection-policy.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The named limit of this route; `/api/` routes default to `api`. */
    rateLimit?: RouteLimitName | false;
    /**
     * The route grants nothing (health probes, static assets): it stays
     * answerable when the ban store is down. Every other route, forward-auth
     * included, fails closed (503) when bans cannot be checked.
     */
    grantsNothing?: true;
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
    const banned = (remainingMs: number) => new GatehouseError("rate_limited", { retryAfter: remainingMs / 1000 });
    // Callback-style: with the in-process store the answer needs no promise (docs/performance.md).
    app.addHook("onRequest", (request, _reply, done) => {
      const now = opts.bans.banRemainingMsNow(request.ip);
      if (now !== undefined) return done(now > 0 ? banned(now) : undefined);
      opts.bans.banRemainingMs(request.ip).then(
        (remaining) => done(remaining > 0 ? banned(remaining) : undefined),
        (err: unknown) => {
          // Health probes and assets grant nothing, so they stay answerable when the ban store is down; everything else
          // (forward-auth too: a banned client must not reach the protected apps) fails closed.
          if (request.routeOptions.config.grantsNothing === true && isGatehouseError(err, "unavailable")) return done();
          done(err as Error);
        },
      );
    });
  },
  { name: "ban-fast-path" },
);

/** Per-route limits; registered after the session plugin. */
export const routeLimitsPlugin = fp(
  async (app: FastifyInstance, opts: { store: LimiterStore; bans: BanPolicy; limits: RouteLimits; clock: Clock; clientKey: ClientKey }) => {
    const { inProcess } = opts.store;

    async function refuse(request: FastifyRequest, name: RouteLimitName, windowMs: number, now: number): Promise<never> {
      const ua = request.headers["user-agent"];
      await opts.bans.trip({ ip: request.ip, userAgent: typeof ua === "string" ? ua : "", requestId: request.id, limit: name });
      throw new GatehouseError("rate_limited", { retryAfter: (windowMs - (now % windowMs)) / 1000 });
    }

    // Callback-style: an in-process counter under its limit answers without a promise.
    app.addHook("onRequest", (request, _reply, done) => {
      if (request.is404) return done();
      const name = limitOf(request);
      if (name === null) return done();
      const { limit, windowMs } = opts.limits[name];
      // Per client: an IPv4 address or an IPv6 network (createClientKey), never a rotating IPv6 address.
      const who = !PER_IP.has(name) && request.auth ? `user:${request.auth.user.id}` : `ip:${opts.clientKey(request.ip)}`;
      const key = `route:${name}:${who}`;
      const now = opts.clock.now();
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
    });
  },
  { name: "route-limits", dependencies: ["session"] },
);
