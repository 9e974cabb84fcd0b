import type { onRequestHookHandler } from "fastify";
import { deriveKey } from "../../core/crypto/derive-key.js";
import { createClientKey } from "../../core/rate-limit/client-key.js";
import { sessionCookieName } from "../plugins/session-cookie.js";
import type { AppDeps } from "../types.js";
import { createAccessStep } from "./access-step.js";
import { createBanStep } from "./ban-step.js";
import { createCrossSiteStep } from "./cross-site-step.js";
import { createHeaderSteps, type HeaderSteps } from "./header-steps.js";
import { createLimitStep } from "./limit-step.js";
import { createSessionSteps, type SessionSteps } from "./session-step.js";
import { createShedStep } from "./shed-step.js";

/** Every step the pipeline can give a route, built once per app from its dependencies. */
export interface PipelineSteps extends HeaderSteps, SessionSteps {
  /** Root: `X-Request-Id` on every answer. */
  stampRequestId: onRequestHookHandler;
  /** Root: 429 for a banned client, before anything else. */
  checkBan: onRequestHookHandler;
  checkCrossSite: ReturnType<typeof createCrossSiteStep>;
  countRouteLimit: ReturnType<typeof createLimitStep>;
  refuseAccess: ReturnType<typeof createAccessStep>;
  shedWhenSaturated: onRequestHookHandler;
}

/** Builds the {@link PipelineSteps} of one app; `mountPath` is where the library plugin mounts Gatehouse ("" for the server). */
export function createPipelineSteps(deps: AppDeps, mountPath = ""): PipelineSteps {
  const { config } = deps;
  const cookieName = sessionCookieName(config);
  return {
    stampRequestId: function stampRequestId(request, reply, done) {
      reply.header("X-Request-Id", request.id);
      done();
    },
    checkBan: createBanStep(deps.bans, deps.metrics),
    ...createHeaderSteps(config.secure),
    checkCrossSite: createCrossSiteStep({ publicOrigin: config.publicUrl, cookieName, csrfKey: deriveKey(config.secretKey, "csrf"), mountPath }),
    ...createSessionSteps({ sessions: deps.sessions, tokens: deps.tokens, cookieName }),
    countRouteLimit: createLimitStep({ store: deps.limiter, bans: deps.bans, limits: config.protection.routes, clock: deps.clock, clientKey: createClientKey(config.protection.ipv6PrefixLength) }),
    refuseAccess: createAccessStep(config, cookieName, deps.mfaPolicy),
    shedWhenSaturated: createShedStep(deps.hashing, deps.metrics),
  };
}
