import type { RouteOptions } from "fastify";
import type { RouteLimitName } from "../../core/rate-limit/protection-policy.js";
import type { Access, TokenRule } from "../types.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The named limit of this route, or `false` for none; unset, the context's default (`api` in the JSON API). */
    rateLimit?: RouteLimitName | false;
    /**
     * `"none"`: the route never looks at who is calling (health probes,
     * assets, CSP reports), so no session is resolved. Unset: public routes
     * resolve the session when the context does; signed-in routes always do.
     */
    session?: "none";
    /**
     * `false`: the route accepts cross-site requests (browsers' CSP reports).
     * Unset: the context's rule (every state-changing route is checked,
     * except in the forward-auth and proxy contexts, which apply their own).
     */
    csrf?: false;
    /** The route hashes a password: refused at once with 503 `overloaded` while hashing is saturated (AUTH-12). */
    hashing?: true;
    /**
     * The route grants nothing (health probes, static assets): it stays
     * answerable when the ban store is down. Every other route, forward-auth
     * included, fails closed (503) when bans cannot be checked.
     */
    grantsNothing?: true;
  }
}

/** The four encapsulated contexts of the app (docs/architecture.md, "The request pipeline"). */
export type ContextName = "api" | "pages" | "authz" | "proxy";

/**
 * Which security headers a route's answers get before its handler runs:
 * the API set plus `Cache-Control: no-store` (`api`), the same set without
 * `no-store` (`page`: a page body replaces it with the HTML set, see
 * `src/http/routes/web/page.ts`), the few defaults under a proxied app's own
 * policy (`proxied`), or none because the route sets its own (`own`:
 * forward-auth, whose allow answers go to the proxy, never to a browser).
 */
export type HeaderSet = "api" | "page" | "proxied" | "own";

/** How a route's errors are answered: the JSON `{error, code}` body, an HTML page, or by the route itself. */
export type ErrorStyle = "api" | "page" | "own";

/** What one context gives its routes unless a route declares otherwise. */
export interface PipelineContext {
  name: ContextName;
  /** Whether public routes resolve the session (signed-in routes always do). */
  session: "optional" | "none";
  /** The limit of routes that name none. */
  limit: RouteLimitName | null;
  headers: HeaderSet;
  errors: ErrorStyle;
  /** Whether state-changing routes get the cross-site check. */
  csrf: boolean;
  /** Whether `__proto__`-style query keys are refused (INP-03); the proxy forwards the query untouched. */
  queryKeys: boolean;
}

/** The contexts' defaults: the rows of the pipeline table in docs/architecture.md. */
export const CONTEXTS: Readonly<Record<ContextName, PipelineContext>> = Object.freeze({
  api: { name: "api", session: "optional", limit: "api", headers: "api", errors: "api", csrf: true, queryKeys: true },
  pages: { name: "pages", session: "optional", limit: null, headers: "page", errors: "page", csrf: true, queryKeys: true },
  authz: { name: "authz", session: "optional", limit: null, headers: "own", errors: "own", csrf: false, queryKeys: false },
  proxy: { name: "proxy", session: "optional", limit: null, headers: "proxied", errors: "own", csrf: false, queryKeys: false },
});

/** Everything a route needs from the pipeline, resolved from its config and its context. */
export interface RouteNeeds {
  context: ContextName;
  access: Access;
  /** API-token access (TOK-03); `false` refuses tokens. */
  token: TokenRule;
  /** `none`: not resolved; `optional`: `request.auth` is set when the cookie is valid; `required`: 401 without a session or an admitted token. */
  session: "none" | "optional" | "required";
  /** The cross-site check runs (only when the route has a state-changing method). */
  csrf: boolean;
  limit: RouteLimitName | null;
  hashing: boolean;
  headers: HeaderSet;
  errors: ErrorStyle;
  queryKeys: boolean;
  /** `fail-open`: answered while the ban store is down (the route grants nothing). */
  bans: "fail-closed" | "fail-open";
}

/** The state-changing methods: the ones the cross-site rule applies to. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** True when one of the route's methods changes state. */
export function changesState(method: RouteOptions["method"]): boolean {
  return (Array.isArray(method) ? method : [method]).some((m) => UNSAFE_METHODS.has(m));
}

/** A route that cannot be registered as declared (a programming error, raised at start-up). */
export class RouteDeclarationError extends Error {}

/**
 * Resolves a route's needs from what it declares and its context's
 * defaults. Throws {@link RouteDeclarationError} for a route that declares
 * no `access` (AZ-01: nothing is reachable by omission) or contradicts
 * itself (a signed-in route that resolves no session).
 */
export function resolveNeeds(route: Pick<RouteOptions, "method" | "url" | "config">, context: PipelineContext): RouteNeeds {
  const config = route.config ?? {};
  const where = `${String(route.method)} ${route.url}`;
  const access = config.access;
  if (access === undefined) throw new RouteDeclarationError(`route ${where} declares no access`);
  if (config.session === "none" && access !== "public") throw new RouteDeclarationError(`route ${where} is signed-in but resolves no session`);
  const session = access !== "public" ? "required" : config.session === "none" ? "none" : context.session;
  const limit = config.rateLimit === false ? null : (config.rateLimit ?? context.limit);
  return {
    context: context.name,
    access,
    token: config.token ?? false,
    session,
    csrf: config.csrf === false ? false : context.csrf && changesState(route.method),
    limit,
    hashing: config.hashing === true,
    headers: context.headers,
    errors: context.errors,
    queryKeys: context.queryKeys,
    bans: config.grantsNothing === true ? "fail-open" : "fail-closed",
  };
}
