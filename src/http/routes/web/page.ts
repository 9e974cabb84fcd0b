import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SafeHtml } from "../../../web/html.js";
import { NOTICES, type PageContext } from "../../../web/page-context.js";
import type { WebCsrf } from "./web-csrf.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Page CSRF tokens (inside the web routes only; see `src/web/README.md`). */
    webCsrf: WebCsrf;
    /** The portal's URL (`PUBLIC_URL`), for what only the portal can do (passkey ceremonies). */
    portalUrl: string;
  }
}

/** The path of the request without its query string. */
function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf("?");
  return q === -1 ? request.url : request.url.slice(0, q);
}

/** The CSP nonce of each page response, from {@link pageContext} to {@link sendPage}. */
const nonces = new WeakMap<FastifyReply, string>();

/** The script nonce of this response (128 random bits, fresh per response; HDR-02). */
function nonceOf(reply: FastifyReply): string {
  let nonce = nonces.get(reply);
  if (nonce === undefined) {
    nonce = randomBytes(16).toString("base64");
    nonces.set(reply, nonce);
  }
  return nonce;
}

/** Everything the layout and forms need: base path, CSRF token, CSP nonce, user, current path, notice. */
export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const user = request.auth?.user ?? null;
  const query = request.query as Record<string, unknown> | undefined;
  const key = typeof query?.notice === "string" ? query.notice : "";
  return {
    basePath: request.basePath,
    csrfToken: request.server.webCsrf.tokenFor(request, reply),
    nonce: nonceOf(reply),
    user: user === null ? null : { id: user.id, username: user.username, role: user.role },
    path: pathOf(request),
    notice: Object.hasOwn(NOTICES, key) ? (NOTICES[key] ?? null) : null,
    registrationOpen: request.registrationOpen === true,
    // On a proxied app host (a base path), passkeys run on the portal: WebAuthn ceremonies are bound to PUBLIC_URL's origin.
    ...(request.basePath !== "" ? { portalUrl: request.server.portalUrl } : {}),
    ...(request.mfaGraceEndsAt !== undefined ? { mfaEnrollBy: new Date(request.mfaGraceEndsAt).toISOString() } : {}),
  };
}

/** Per-page header changes on top of the HTML set. */
export interface PageOptions {
  /** `Referrer-Policy: no-referrer`, for pages that show or carry a secret (HDR-04). */
  noReferrer?: boolean;
}

/**
 * Sends a rendered page: `text/html; charset=utf-8`, the precomputed HTML
 * header set (page CSP with this response's nonce, `Cache-Control: no-store`)
 * and the status.
 */
export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200, options: PageOptions = {}): FastifyReply {
  const headers = reply.server.htmlSecurityHeaders;
  reply.code(status).headers(headers.fixed).headers(headers.forResponse(nonceOf(reply), reply.request.basePath));
  if (options.noReferrer) reply.header("Referrer-Policy", "no-referrer");
  return reply.type("text/html; charset=utf-8").send(page.value);
}

/** A 303 "See Other" to `location` (after a form POST, or to the sign-in page). */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header("Cache-Control", "no-store").redirect(location, 303);
}
