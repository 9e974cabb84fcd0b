import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { OAuthIntent } from "../../../core/oauth/oauth-transaction-store.js";
import type { PresentedSession } from "../../../core/oauth/provider-sign-in.js";
import { formChecked, formValue, type FormBody } from "../../../web/form.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import { clearOauthCookie, readOauthBinding, setOauthCookie } from "../../plugins/oauth-cookie.js";
import type { AppDeps } from "../../types.js";
import { seeOther } from "./page.js";
import { returnQuery, returnTarget } from "./return-target.js";

export const providerParams = {
  type: "object",
  required: ["provider"],
  properties: { provider: { type: "string", pattern: "^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$" } },
} as const;

/** The browser's valid session (never an API token), with whether it re-authenticated recently. */
function presented(request: FastifyRequest, deps: AppDeps): PresentedSession | null {
  if (request.auth?.via !== "session") return null;
  return { user: request.auth.user, session: request.auth.session, recentlyAuthenticated: deps.accounts.isRecentlyAuthenticated(request.auth.session) };
}

/**
 * Starts a provider round trip for this browser: checks the return target
 * (REDIR-01; kept server-side with the round trip), sets the transaction
 * cookie and answers 303 to the provider. Also used by the account page's
 * "Link" form after its re-authentication.
 */
export async function startProviderRoundTrip(
  deps: AppDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  o: { provider: string; intent: OAuthIntent; returnTo: string; remember: boolean },
): Promise<FastifyReply> {
  const safe = o.returnTo === "" ? null : returnTarget(deps, request, o.returnTo);
  // The round trip keeps at most 2048 characters of it; a longer one falls back to the default.
  const returnTo = safe !== null && safe.length <= 2048 ? safe : null;
  const started = await deps.providerSignIn.start({ provider: o.provider, intent: o.intent, returnTo, remember: o.remember, current: presented(request, deps) });
  setOauthCookie(reply, deps.config, started.binding, started.expiresAt - deps.clock.now());
  return seeOther(reply, started.redirectTo.href);
}

/**
 * Provider sign-in in the browser (src/core/oauth/provider-sign-in.ts):
 * `GET /api/auth/oauth/:provider/start?return=…` (sign in), `POST` of the
 * same path from the account page (`intent=link` or `reauth`, with the form's
 * CSRF token), and `GET /api/auth/oauth/:provider/callback`, which ends in a
 * session cookie and a 303 to the validated return target, the second-factor
 * form, or an HTML error page. No token ever goes into a URL, a log or a page.
 */
export async function oauthPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config, providerSignIn } = deps;

  const start = (request: FastifyRequest<{ Params: { provider: string } }>, reply: FastifyReply, intent: OAuthIntent, raw: string, remember: boolean) =>
    startProviderRoundTrip(deps, request, reply, { provider: request.params.provider, intent, returnTo: raw, remember });

  app.get<{ Params: { provider: string } }>(
    "/api/auth/oauth/:provider/start",
    { config: { access: "public", rateLimit: "login" }, schema: { params: providerParams } },
    async (request, reply) => start(request, reply, "login", returnQuery(request) ?? "", (request.query as Record<string, unknown>).remember === "1"),
  );

  app.post<{ Params: { provider: string }; Body: FormBody }>(
    "/api/auth/oauth/:provider/start",
    { config: { access: "public", rateLimit: "login" }, schema: { params: providerParams } },
    async (request, reply) => {
      const raw = formValue(request.body, "intent", 16);
      const intent: OAuthIntent = raw === "link" || raw === "reauth" ? raw : "login";
      return start(request, reply, intent, formValue(request.body, "return", 4096), formChecked(request.body, "remember"));
    },
  );

  app.get<{ Params: { provider: string } }>(
    "/api/auth/oauth/:provider/callback",
    { config: { access: "public", rateLimit: "login" }, schema: { params: providerParams } },
    async (request, reply) => {
      const binding = readOauthBinding(request, config);
      // Right or wrong, this browser's round trip ends here.
      if (binding !== null) clearOauthCookie(reply, config);
      reply.header("Cache-Control", "no-store");
      const url = new URL(request.url, config.publicUrl);
      const outcome = await completeSignIn(request, reply, config, async (replacing) => {
        const result = await providerSignIn.callback({ provider: request.params.provider, url, binding, origin: originOf(request), replacing, current: presented(request, deps) });
        // A login's session or pending sign-in, a re-authentication's rotated session: completeSignIn sets the cookies.
        return result.intent === "link" ? { ...result, issued: null } : result;
      });
      const back = outcome.returnTo ?? "";
      if (outcome.intent === "reauth") return seeOther(reply, returnTarget(deps, request, back));
      if (outcome.intent === "link") return seeOther(reply, `${request.basePath}/account?notice=provider_linked`);
      // The second factor's form is one redirect away, so no history entry keeps the callback's (spent) code.
      if (outcome.status === "mfa_required") return seeOther(reply, `${request.basePath}/login/second-factor${back === "" ? "" : `?return=${encodeURIComponent(back)}`}`);
      return seeOther(reply, returnTarget(deps, request, back));
    },
  );
}
