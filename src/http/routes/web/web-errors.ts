import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { html } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href } from "../../../web/page-context.js";
import { toPublicError } from "../../plugins/errors.js";
import { setRefusalHeaders } from "../../refusal-headers.js";
import { pageContext, seeOther, sendPage } from "./page.js";

/** Friendlier page titles for the errors a person meets in the browser. */
const TITLES: Partial<Record<string, string>> = {
  csrf: "This form has expired",
  forbidden: "Not allowed",
  not_found: "Page not found",
  rate_limited: "Too many attempts",
  account_blocked: "Account blocked",
  mfa_required: "Sign in with your second factor",
  oauth_state_invalid: "This sign-in has expired",
  oauth_failed: "The sign-in did not succeed",
  oauth_account_not_linked: "No account for this sign-in",
  oauth_provider_unavailable: "The identity provider is unavailable",
  identity_in_use: "Already linked to another account",
  provider_already_linked: "Already linked",
  last_sign_in_method: "Your last way to sign in",
  password_login_disabled: "Password sign-in is turned off",
};

const HINTS: Partial<Record<string, string>> = {
  csrf: "The page was open too long or came from another site. Go back, reload the page and try again.",
  rate_limited: "Wait a moment, then try again.",
  mfa_required: "This session was opened with your password alone (or before you added your second factor). Confirm it is you with your second factor, then try again.",
  // Provider sign-in: fixed text only; what the provider said is never shown (it is logged, without secrets).
  oauth_state_invalid: "Start again from the sign-in page.",
  oauth_failed: "The identity provider did not confirm who you are, or the sign-in was cancelled. Start again from the sign-in page.",
  oauth_account_not_linked: "An invitation works when you sign up with the address it was sent to.",
  oauth_provider_unavailable: "Try again in a few minutes, or sign in another way.",
  identity_in_use: "Sign in with that account instead, or unlink the provider there first.",
  provider_already_linked: "Unlink the account of this provider from your account page first.",
  last_sign_in_method: "Set a password, add a passkey or link another provider first.",
  password_login_disabled: "Use one of the sign-in buttons on the sign-in page.",
};

/**
 * The error handler of the web pages: an anonymous (or signed-out, blocked,
 * revoked) visitor is sent to the sign-in page with a return target; an
 * administrator who must add a second factor first (AZ-06,
 * `mfa_enrollment_required`) to the page where they add one; a session that
 * must still prove its second factor (`mfa_required`) to the step-up page,
 * which comes back here; every other
 * error is an HTML page with the status and message of docs/api.md.
 */
export function webErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toPublicError(err, request);
  setRefusalHeaders(reply, e);
  if (e.code === "unauthenticated") {
    const back = request.method === "GET" ? `?return=${encodeURIComponent(request.basePath + request.url)}` : "";
    return seeOther(reply, `${request.basePath}/login${back}`);
  }
  if (e.code === "mfa_enrollment_required") return seeOther(reply, `${request.basePath}/account/mfa?notice=mfa_enrollment_required`);
  if (e.code === "mfa_required" && request.method === "GET") {
    return seeOther(reply, `${request.basePath}/login/second-factor?return=${encodeURIComponent(request.basePath + request.url)}`);
  }
  const ctx = pageContext(request, reply);
  const title = TITLES[e.code] ?? (e.status >= 500 ? "Something went wrong" : "Request refused");
  const body = html`<div class="card" data-error="${e.code}">
<h1>${title}</h1>
<p>${e.message}.</p>
${HINTS[e.code] ? html`<p class="muted">${HINTS[e.code]}</p>` : ""}
${e.status >= 500 ? html`<p class="muted">Reference: <code>${request.id}</code></p>` : ""}
<p><a href="${href(ctx, ctx.user ? "/account" : "/login")}">${ctx.user ? "Back to your account" : "Go to sign in"}</a></p>
</div>`;
  return sendPage(reply, layout(ctx, { title, body, narrow: true }), e.status);
}
