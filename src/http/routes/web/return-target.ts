import type { FastifyRequest } from "fastify";
import type { AppDeps } from "../../types.js";

const SIGN_IN_PAGES = ["/login", "/login/second-factor", "/register", "/logout"];

/**
 * Where to go after signing in: the `return` value validated by the
 * gateway's open-redirect rules (REDIR-01, decoded once by the query or form
 * parser); when absent or refused, the account page.
 */
export function returnTarget(deps: Pick<AppDeps, "gate">, request: FastifyRequest, raw: string | undefined): string {
  const fallback = `${request.basePath}/account`;
  if (raw === undefined || raw === "") return fallback;
  const safe = deps.gate.safeReturnUrl(raw);
  if (safe === "/" && raw !== "/") return fallback;
  // Never back to the sign-in or sign-up page itself: a signed-in visit there would redirect in a loop.
  const path = safe.startsWith("/") ? safe.replace(/[?#].*$/, "") : null;
  if (path !== null && SIGN_IN_PAGES.some((p) => path === `${request.basePath}${p}`)) return fallback;
  return safe;
}

/** The raw `?return=` of a GET (a single string, else undefined). */
export function returnQuery(request: FastifyRequest): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.return;
  return typeof value === "string" ? value : undefined;
}
