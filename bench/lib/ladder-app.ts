// The rungs of the ladder ablation (docs/performance.md, "Where the time goes
// (issue 14 ladder)"), built from the real pieces of a running Gatehouse:
// bench/servers/ladder.ts serves one per process (the `ladder` scenario).
import cookie from "@fastify/cookie";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type onRequestHookHandler } from "fastify";
import type { Gatehouse } from "../../src/compose.js";
import type { Config } from "../../src/config/config.js";
import { systemClock } from "../../src/core/clock.js";
import { GatehouseError } from "../../src/core/errors.js";
import type { User } from "../../src/core/users/user.js";
import { toPublicUser } from "../../src/core/users/user.js";
import { createPipelineSteps } from "../../src/http/pipeline/pipeline-steps.js";
import { refuseQueryKeys } from "../../src/http/pipeline/query-keys-step.js";
import { CONTEXTS } from "../../src/http/pipeline/route-needs.js";
import { usePipeline } from "../../src/http/pipeline/use-pipeline.js";
import { createProxyRouting } from "../../src/http/proxy/proxy-routing.js";
import { forwardAuthRoutes } from "../../src/http/routes/authz/forward-auth-routes.js";
import { userResponse } from "../../src/http/schemas.js";
import { gatehouseServerOptions } from "../../src/http/server-options.js";
import type { AppDeps } from "../../src/http/types.js";

/** The levels, in ladder order (the list in bench/servers/ladder.ts says what each adds). */
export const LADDER_LEVELS = ["L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L7c", "L8", "Fmin", "Freal"] as const;
export type LadderLevel = (typeof LADDER_LEVELS)[number];

/** What every rung is built from: a running Gatehouse, its config and logger, and the user to answer at the levels without auth. */
export interface LadderParts {
  gh: Gatehouse;
  config: Config;
  logger: FastifyBaseLogger;
  fixedUser: User;
}

/** The Fastify app of one level (not ready, not listening); L8 and Freal are the real app itself. */
export async function ladderApp(level: LadderLevel, parts: LadderParts): Promise<FastifyInstance> {
  const { gh, config, logger, fixedUser } = parts;
  if (level === "L8" || level === "Freal") return gh.app;
  const rung = (l: LadderLevel) => LADDER_LEVELS.indexOf(l);
  const atLeast = (l: LadderLevel) => level !== "Fmin" && rung(level) >= rung(l);
  // The same host routing buildApp gives rewriteUrl (src/http/app.ts).
  const routing = createProxyRouting({ gate: gh.gate, publicUrl: config.publicUrl, upstreamUrl: config.upstreamUrl, pathPrefix: config.proxy.pathPrefix, loopbackRedirect: false });
  const app: FastifyInstance = level === "L0" ? Fastify() : Fastify(gatehouseServerOptions(config, routing, logger));
  // What createPipelineSteps reads; the hashing gate only serves shedWhenSaturated, which no level uses.
  const deps = { config, bans: gh.bans, sessions: gh.sessions, tokens: gh.tokens, limiter: gh.limiter, clock: systemClock, hashing: { saturated: () => false } };
  const steps = createPipelineSteps(deps as unknown as AppDeps);
  if (level === "Fmin" || atLeast("L2")) {
    app.addHook("onRequest", steps.stampRequestId);
    app.addHook("onRequest", steps.checkBan);
  }
  if (level === "Fmin" || atLeast("L5")) app.decorateRequest("auth", null);
  if (level === "Fmin") {
    await app.register(async function authz(context) {
      usePipeline(context, CONTEXTS.authz, steps, []);
      await context.register(forwardAuthRoutes, { gate: gh.gate, sessions: gh.sessions, stepUp: gh.stepUp, audit: gh.audit, clock: systemClock, config, ruleLimits: gh.ruleLimits });
    });
    return app;
  }
  await app.register(async function jsonApi(api) {
    if (atLeast("L7c")) await api.register(cookie, { hook: false });
    const onRequest: onRequestHookHandler[] = [];
    if (atLeast("L3")) onRequest.push(steps.setApiHeaders);
    if (atLeast("L4")) onRequest.push(refuseQueryKeys);
    if (atLeast("L5")) onRequest.push(steps.resolveSession(true));
    if (atLeast("L6")) onRequest.push(steps.countRouteLimit("api"));
    if (atLeast("L7")) onRequest.push(steps.refuseAccess("user", "read:account"));
    const schema = { response: { 200: userResponse } };
    if (atLeast("L5")) {
      api.get("/api/auth/me", { onRequest, schema }, async (request) => {
        if (!request.auth) throw new GatehouseError("unauthenticated");
        return { user: toPublicUser(request.auth.user) };
      });
    } else {
      api.get("/api/auth/me", { onRequest, schema }, async () => ({ user: toPublicUser(fixedUser) }));
    }
  });
  return app;
}

