import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isGatehouseError } from "../../../core/errors.js";
import { csrfField, field, formError, type FormErrors } from "../../../web/components.js";
import { formValue, type FormBody } from "../../../web/form.js";
import { html, type SafeHtml } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import { clearPendingCookie, readPendingToken } from "../../plugins/pending-cookie.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage } from "./page.js";
import { returnTarget } from "./return-target.js";

/**
 * A passkey button run by passkeys.js (hidden until the script shows it):
 * passwordless on the sign-in page, the second factor on the code page. On
 * success the browser goes to `/login?return=…`, which follows the return
 * target through the same checks as a form sign-in.
 */
export function passkeySignIn(ctx: PageContext, o: { mode: "passwordless" | "second_factor"; returnTo: string; label: string }): SafeHtml {
  const done = href(ctx, o.returnTo === "" ? "/login" : `/login?return=${encodeURIComponent(o.returnTo)}`);
  const verify = o.mode === "passwordless" ? "/api/auth/webauthn/verify" : "/api/auth/mfa/verify";
  return html`<div class="stack passkey">
<div class="alert alert-error" role="alert" data-passkey-status hidden></div>
<button type="button" class="secondary" data-passkey-sign-in="${o.mode}" data-options-url="${href(ctx, "/api/auth/webauthn/options")}" data-verify-url="${href(ctx, verify)}" data-done-url="${done}" hidden>${o.label}</button>
</div>`;
}

/** The second step of a sign-in: one code field per offered method (the first is the default); a passkey button when one is enrolled. */
export function secondFactorPage(ctx: PageContext, o: { methods: readonly string[]; returnTo: string; errors?: FormErrors }) {
  const passkey = o.methods.includes("webauthn");
  const codes = o.methods.filter((m) => m !== "webauthn");
  const method = codes[0] ?? "";
  return layout(ctx, {
    title: "Second factor",
    narrow: true,
    ...(passkey ? { scripts: ["simplewebauthn-browser.js", "passkeys.js"] } : {}),
    body: html`<div class="card">
<h1>Confirm it is you</h1>
${formError(o.errors)}
${passkey ? passkeySignIn(ctx, { mode: "second_factor", returnTo: o.returnTo, label: "Use a passkey" }) : ""}
${codes.length > 0 || !passkey ? codeForm(ctx, { method, returnTo: o.returnTo, ...(o.errors ? { errors: o.errors } : {}) }) : html`<p><a href="${href(ctx, "/login")}">Start over</a></p>`}
</div>`,
  });
}

function codeForm(ctx: PageContext, o: { method: string; returnTo: string; errors?: FormErrors }): SafeHtml {
  const method = o.method;
  return html`<form class="stack" method="post" action="${href(ctx, "/login/second-factor")}">
${csrfField(ctx)}
<input type="hidden" name="return" value="${o.returnTo}">
<input type="hidden" name="method" value="${method}">
${field({ name: "code", label: "Code", autocomplete: "one-time-code", required: true, maxlength: 1024, autofocus: true, errors: o.errors })}
<div class="row spread"><button type="submit">Continue</button><a href="${href(ctx, "/login")}">Start over</a></div>
</form>`;
}

/** Sends the second-factor form (after a password that needs one, or after a wrong code). */
export function sendSecondFactorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  o: { methods: readonly string[]; returnTo: string; errors?: FormErrors },
  status = 200,
): FastifyReply {
  return sendPage(reply, secondFactorPage(pageContext(request, reply), o), status);
}

/** `POST /login/second-factor`: completes a pending sign-in from the portal's form, as `POST /api/auth/mfa/verify` does. */
export async function secondFactorPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps;
  app.post<{ Body: FormBody }>("/login/second-factor", { config: { access: "public", rateLimit: "login" } }, async (request, reply) => {
    const method = formValue(request.body, "method", 32);
    const code = formValue(request.body, "code", 1024);
    const raw = formValue(request.body, "return", 4096);
    const token = readPendingToken(request, config);
    if (token === null) return seeOther(reply, `${request.basePath}/login`);
    try {
      await completeSignIn(request, reply, config, (replacing) => deps.pendingSignIn.complete(token, { method, code }, originOf(request), replacing));
      return seeOther(reply, returnTarget(deps, request, raw));
    } catch (err) {
      if (isGatehouseError(err, "sign_in_expired")) {
        clearPendingCookie(reply, config);
        return seeOther(reply, `${request.basePath}/login`);
      }
      if (!isGatehouseError(err) || err.status < 400 || err.status >= 500) throw err;
      if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
      return sendSecondFactorPage(request, reply, { methods: [method], returnTo: raw, errors: { form: `${err.message}.` } }, err.status);
    }
  });
}
