import type { FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import type { AccessGate } from "../../core/gateway/access-decision.js";
import type { RouteLimitName } from "../../core/rate-limit/protection-policy.js";
import { bearerCredential } from "../../core/tokens/api-token.js";
import { isBrowserNavigation, sendErrorPage } from "../../http/error-page.js";
import { sendError, toPublicError } from "../../http/plugins/errors.js";
import type { PipelineSteps } from "../../http/pipeline/pipeline-steps.js";
import { changesState } from "../../http/pipeline/route-needs.js";
import { readSessionToken } from "../../http/plugins/session-cookie.js";
import type { Access, TokenRule } from "../../http/types.js";
import { toGatehouseSession, toGatehouseUser } from "./gatehouse-user.js";

/** A guard in Fastify's callback style, usable as an `onRequest` or `preHandler` hook and with `@fastify/auth`. */
export type GatehouseGuard = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void;

/** What the host guards are built from. */
export interface HostGuardOptions {
  steps: PipelineSteps;
  gate: Pick<AccessGate, "safeReturnUrl">;
  /** Where the plugin mounted Gatehouse's pages ("" or e.g. "/auth"). */
  prefix: string;
  cookieName: string;
  /** The session cookie expired in the browser (a dead cookie presented to a signed-in route). */
  expiredCookie: string;
}

/** The guards of a host app's routes: by route config (answering denials itself) and as composable hooks. */
export interface HostGuards {
  /** The `onRequest` hook of a host route that declared `config.access` (null for a route that did not: no hook at all). */
  forRoute(route: Pick<RouteOptions, "method" | "url" | "config">): onRequestHookHandler | null;
  /** 401 without a signed-in user; sets `request.user` and `request.session`. Denials go to `done(err)` (for `@fastify/auth`). */
  requireUser: GatehouseGuard;
  /** 401 without a signed-in user, 403 below `role` (higher roles pass); denials go to `done(err)`. */
  requireRole: (role: Exclude<Access, "public">) => GatehouseGuard;
  /** Sets `request.user` and `request.session` when the session cookie is valid; denies only a cross-site state-changing request (403 `csrf`). */
  resolveUser: GatehouseGuard;
}

type Step = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error | null) => void) => void;

/** Runs callback-style steps one after the other; the first error stops the chain and goes to `done`. */
function chain(steps: readonly Step[]): Step {
  return function runGuard(request, reply, done) {
    let i = 0;
    const next = (err?: Error | null): void => {
      if (err) return done(err);
      const step = steps[i++];
      if (step === undefined) return done();
      step(request, reply, next);
    };
    next();
  };
}

/** Copies what the session step resolved onto the host-facing `request.user` and `request.session`. */
const publishIdentity: Step = function publishIdentity(request, _reply, done) {
  const auth = request.auth;
  if (auth !== null) {
    request.user = toGatehouseUser(auth);
    request.session = toGatehouseSession(auth);
  }
  done();
};

/** Builds the {@link HostGuards}. */
export function createHostGuards(opts: HostGuardOptions): HostGuards {
  const { steps, gate, prefix } = opts;
  const asStep = (hook: onRequestHookHandler): Step => hook;

  /**
   * 401 before the access step when nothing was resolved: the host's reply
   * may lack `@fastify/cookie`, so a dead session cookie is expired here by
   * hand, and a refused bearer token is told so.
   */
  const requirePrincipal: Step = function requirePrincipal(request, reply, done) {
    if (request.auth !== null) return done();
    if (readSessionToken(request, opts.cookieName) !== null) reply.header("Set-Cookie", opts.expiredCookie);
    else if (bearerCredential(request.headers.authorization) !== null) reply.header("WWW-Authenticate", 'Bearer error="invalid_token"');
    done(new GatehouseError("unauthenticated"));
  };

  /** The steps of one declared access, in the pipeline's order: ban, cross-site, session, limit, access. */
  function stepsOf(access: Access, o: { unsafe: boolean; csrf: boolean; limit: RouteLimitName | null; token: TokenRule }): Step[] {
    const required = access !== "public";
    const out: Step[] = [asStep(steps.checkBan)];
    if (o.unsafe && o.csrf) out.push(asStep(steps.checkCrossSite(required)));
    out.push(asStep(steps.resolveSession(required)));
    if (o.limit !== null) out.push(asStep(steps.countRouteLimit(o.limit)));
    if (required) out.push(requirePrincipal, asStep(steps.refuseAccess(access, o.token)));
    out.push(publishIdentity);
    return out;
  }

  /**
   * The answer to a denied host route: a browser navigation without a
   * session goes to the plugin's sign-in page and back (the return target
   * validated like every other), another browser navigation Gatehouse's
   * error page, anything else Gatehouse's `{error, code}` body with its
   * status; never the host's error handler.
   */
  function deny(request: FastifyRequest, reply: FastifyReply, err: Error): void {
    const e = toPublicError(err, request);
    reply.header("Cache-Control", "no-store");
    if (isBrowserNavigation(request) && (e.code === "unauthenticated" || e.code === "mfa_required" || e.code === "mfa_enrollment_required")) {
      const back = encodeURIComponent(gate.safeReturnUrl(request.url));
      const page = e.code === "unauthenticated" ? "/login" : e.code === "mfa_required" ? "/login/second-factor" : "/account/mfa";
      void reply.redirect(`${prefix}${page}?return=${back}`, 303);
      return;
    }
    // A person's browser refused for another reason (a role, a ban, a limit) gets Gatehouse's error page, not JSON.
    if (isBrowserNavigation(request)) return void sendErrorPage(request, reply, e, prefix);
    void sendError(reply, e);
  }

  // The composable guards check cross-site requests whatever the method (the step passes safe methods at once).
  const guard = (access: Access): GatehouseGuard => chain(stepsOf(access, { unsafe: true, csrf: true, limit: null, token: false })) as GatehouseGuard;

  return {
    forRoute(route) {
      const config = route.config;
      const access = config?.access;
      if (access === undefined) return null;
      const limit = config?.rateLimit;
      const run = chain(
        stepsOf(access, {
          unsafe: changesState(route.method),
          csrf: config?.csrf !== false,
          limit: limit === undefined || limit === false ? null : limit,
          token: config?.token ?? false,
        }),
      );
      return function gatehouseGuard(request, reply, done) {
        run(request, reply, (err) => (err ? deny(request, reply, err) : done()));
      };
    },
    requireUser: guard("user"),
    requireRole: (role) => guard(role),
    resolveUser: guard("public"),
  };
}
