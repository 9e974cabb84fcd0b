import type { FastifyReply, FastifyRequest } from "fastify";
import type { Actor } from "../../../../core/admin/admin-service.js";
import { GatehouseError } from "../../../../core/errors.js";
import type { IssuedSession } from "../../../../core/sessions/session-service.js";
import type { Session } from "../../../../core/sessions/session.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { originOf } from "../../../origin.js";
import { readSessionToken, sessionCookieName, setSessionCookie } from "../../../plugins/session-cookie.js";
import type { AppDeps } from "../../../types.js";

/** The signed-in admin acting (pages are session-only: API tokens never reach them). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return { user: request.auth.user, session: request.auth.session, origin: originOf(request) };
}

/** True when the session must re-authenticate before a sensitive action (SESS-08). */
export function needsSudo(deps: Pick<AppDeps, "accounts">, session: Session): boolean {
  return !deps.accounts.isRecentlyAuthenticated(session);
}

/**
 * After a re-authentication rotated the session: the rest of this request
 * (and any page it renders, whose CSRF token is bound to the session) uses
 * the new session, and the browser gets the new cookie.
 */
function adoptSession(deps: Pick<AppDeps, "config">, request: FastifyRequest, reply: FastifyReply, issued: IssuedSession): void {
  setSessionCookie(reply, deps.config, issued);
  const name = sessionCookieName(deps.config);
  const old = readSessionToken(request, name);
  if (old !== null && typeof request.headers.cookie === "string") {
    request.headers.cookie = request.headers.cookie.replace(`${name}=${old}`, `${name}=${issued.token}`);
  }
  if (request.auth) request.auth = { ...request.auth, session: issued.session };
}

/**
 * The sudo step of a sensitive form: a session that re-authenticated recently
 * passes; otherwise the form's `password` field (the admin's own password)
 * re-authenticates it first, rotating the session. Throws 403
 * `reauth_required` without a password, 403 `invalid_password` for a wrong
 * one (counted by the brute-force regulator like any password check).
 */
export async function sudo(deps: Pick<AppDeps, "accounts" | "config">, request: FastifyRequest, reply: FastifyReply, form: FormBody | undefined): Promise<Actor> {
  const actor = actorOf(request);
  if (!needsSudo(deps, actor.session)) return actor;
  const password = formValue(form, "password", 65_536);
  if (password === "") throw new GatehouseError("reauth_required");
  const issued = await deps.accounts.reauthenticate(actor.user, actor.session, password, actor.origin);
  adoptSession(deps, request, reply, issued);
  return { ...actor, session: issued.session };
}

/** True for the refusals a sudo prompt answers on its own form. */
export function isSudoRefusal(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError && (err.code === "reauth_required" || err.code === "invalid_password");
}

/** Query-string properties every page accepts besides its own (the notice after a redirect). */
export const NOTICE_QUERY = { notice: { type: "string", maxLength: 64 } } as const;

/** The UUID route parameter of user pages. */
export const USER_ID_PARAMS = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: { type: "string", pattern: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" } },
} as const;
