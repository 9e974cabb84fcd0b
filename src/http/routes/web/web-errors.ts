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
};

const HINTS: Partial<Record<string, string>> = {
  csrf: "The page was open too long or came from another site. Go back, reload the page and try again.",
  rate_limited: "Wait a moment, then try again.",
  mfa_required: "This session was opened with your password alone (or before you added your second factor). Confirm it is you with your second factor, then try again.",
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
