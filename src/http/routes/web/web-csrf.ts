import { randomBytes } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { csrfTokenFor, isValidCsrfToken } from "../../../core/csrf/csrf-token.js";
import { hashToken, isWellFormedToken } from "../../../core/crypto/tokens.js";
import { GatehouseError } from "../../../core/errors.js";
import type { Config } from "../../../config/config.js";
import { formValue, type FormBody } from "../../../web/form.js";
import { readSessionToken, sessionCookieName } from "../../plugins/session-cookie.js";

/** The form field that carries the CSRF token. */
export const CSRF_FIELD = "_csrf";

/**
 * The pre-session cookie that anonymous forms (sign-in, registration, setup)
 * bind their CSRF token to (login CSRF, CSRF-03): random, HttpOnly, and
 * `__Host-` prefixed on https so a sibling domain cannot plant one.
 */
export function preSessionCookieName(config: Pick<Config, "secure">): string {
  return config.secure ? "__Host-gatehouse_csrf" : "gatehouse_csrf";
}

/** The domain of pre-session tokens, distinct from session-bound ones. */
const preSessionBinding = (cookie: string) => `pre-session:${hashToken(cookie)}`;

/** Issues CSRF tokens for pages and checks them on form posts. */
export interface WebCsrf {
  /**
   * The token for the page being rendered: bound to the session when signed
   * in, else to the pre-session cookie (set here when missing).
   */
  tokenFor(request: FastifyRequest, reply: FastifyReply): string;
  /** Makes pages rendered for this request use the session that was just issued (after a re-authentication rotated it). */
  useRotatedSession(request: FastifyRequest, token: string): void;
  /** Throws 403 `csrf` unless the form's `_csrf` field is valid for this request's session (or pre-session on public routes). */
  check(request: FastifyRequest, form: FormBody | undefined): void;
}

/** Creates the page CSRF helper over the key the `X-CSRF-Token` header uses. */
export function createWebCsrf(config: Config, key: Buffer): WebCsrf {
  const sessionName = sessionCookieName(config);
  const preName = preSessionCookieName(config);

  function preSessionCookie(request: FastifyRequest): string | null {
    const value = readSessionToken(request, preName);
    return value !== null && isWellFormedToken(value) ? value : null;
  }

  const rotated = new WeakMap<FastifyRequest, string>();

  return {
    useRotatedSession(request, token) {
      rotated.set(request, token);
    },
    tokenFor(request, reply) {
      const session = rotated.get(request) ?? (request.auth?.via === "session" ? readSessionToken(request, sessionName) : null);
      if (session !== null) return csrfTokenFor(key, hashToken(session));
      let pre = preSessionCookie(request);
      if (pre === null) {
        pre = randomBytes(32).toString("base64url");
        reply.setCookie(preName, pre, { httpOnly: true, sameSite: "lax", path: "/", secure: config.secure });
      }
      return csrfTokenFor(key, preSessionBinding(pre));
    },
    check(request, form) {
      let presented: string;
      try {
        presented = formValue(form, CSRF_FIELD, 128);
      } catch {
        throw new GatehouseError("csrf");
      }
      if (presented === "") throw new GatehouseError("csrf");
      const session = request.auth?.via === "session" ? readSessionToken(request, sessionName) : null;
      if (session !== null && isValidCsrfToken(key, hashToken(session), presented)) return;
      if (request.routeOptions.config.access === "public") {
        const pre = preSessionCookie(request);
        if (pre !== null && isValidCsrfToken(key, preSessionBinding(pre), presented)) return;
      }
      throw new GatehouseError("csrf");
    },
  };
}
