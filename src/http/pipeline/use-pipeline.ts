import type { FastifyInstance, onRequestHookHandler } from "fastify";
import { refuseQueryKeys } from "./query-keys-step.js";
import type { PipelineSteps } from "./pipeline-steps.js";
import { resolveNeeds, type PipelineContext, type RouteNeeds } from "./route-needs.js";

/** One registered route and what it declared it needs (HEAD twins included). */
export interface PipelineEntry {
  method: string;
  url: string;
  needs: RouteNeeds;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route of the four contexts with its resolved needs (the declared-needs test compares them with the hooks that run). */
    routePipeline: PipelineEntry[];
  }
}

/** The `onRequest` steps a route's needs call for, in the order they run after the root's. */
export function stepsFor(needs: RouteNeeds, steps: PipelineSteps): onRequestHookHandler[] {
  const out: onRequestHookHandler[] = [];
  if (needs.headers === "api") out.push(steps.setApiHeaders);
  else if (needs.headers === "page") out.push(steps.setPageHeaders);
  else if (needs.headers === "proxied") out.push(steps.setProxiedHeaders);
  if (needs.queryKeys) out.push(refuseQueryKeys);
  if (needs.csrf) out.push(steps.checkCrossSite(needs.session === "required"));
  if (needs.session !== "none") out.push(steps.resolveSession(needs.session === "required"));
  if (needs.limit !== null) out.push(steps.countRouteLimit(needs.limit));
  if (needs.access !== "public") out.push(steps.refuseAccess(needs.access, needs.token));
  if (needs.hashing) out.push(steps.shedWhenSaturated);
  return out;
}

/** A route option that may hold one hook or several, as a list. */
export const asArray = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/** Marks the hooks the pipeline made, so a route copied by Fastify (its HEAD twin) is not given them twice. */
const made = new WeakSet<object>();

/**
 * Makes `instance` one of the app's contexts: every route registered in it
 * (and in its children) gets exactly the steps its declared needs call for,
 * as route-level hooks, before any hook of its own. A route therefore pays
 * only for what it uses: nothing checks a URL prefix or a flag per request
 * to skip a step. Each route is recorded in `table` with its resolved needs.
 */
export function usePipeline(instance: FastifyInstance, context: PipelineContext, steps: PipelineSteps, table: PipelineEntry[]): void {
  instance.addHook("onRoute", (route) => {
    const needs = resolveNeeds(route, context);
    for (const method of asArray(route.method)) table.push({ method, url: route.url, needs });
    const own = asArray(route.onRequest).filter((hook) => !made.has(hook));
    const added = stepsFor(needs, steps);
    for (const hook of added) made.add(hook);
    route.onRequest = [...added, ...own];
    const rule = needs.token;
    if (typeof rule === "object") {
      const existing = asArray(route.preValidation).filter((hook) => !made.has(hook));
      const refuse = steps.refuseTokenFields(rule.refuseFields);
      made.add(refuse);
      route.preValidation = [...existing, refuse];
    }
  });
}
