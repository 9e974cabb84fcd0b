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
import { setSessionCookie } from "../../plugins/session-cookie.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage } from "./page.js";
import { returnQuery, returnTarget } from "./return-target.js";

/**
 * A passkey button run by passkeys.js (hidden until the script shows it):
 * passwordless on the sign-in page, the second factor on the code page. On
 * success the browser goes to `/login?return=…`, which follows the return
 * target through the same checks as a form sign-in.
 */
export function passkeySignIn(ctx: PageContext, o: { mode: "passwordless" | "second_factor"; returnTo: string; label: string }): SafeHtml {
  if (ctx.portalUrl !== undefined) {
    // A proxied app host: passkeys answer to the portal's origin only, so the passkey sign-in happens there
    // (passwordless; the return target is checked by the portal's sign-in page like any other).
    const portalLogin = `${ctx.portalUrl}/login${o.returnTo === "" ? "" : `?return=${encodeURIComponent(o.returnTo)}`}`;
    return html`<p><a class="btn secondary" href="${portalLogin}">${o.label}</a> <span class="muted">on the sign-in portal</span></p>`;
  }
  const done = href(ctx, o.returnTo === "" ? "/login" : `/login?return=${encodeURIComponent(o.returnTo)}`);
  const verify = o.mode === "passwordless" ? "/api/auth/webauthn/verify" : "/api/auth/mfa/verify";
  return html`<div class="stack passkey">
<div class="alert alert-error" role="alert" data-passkey-status hidden></div>
<button type="button" class="secondary" data-passkey-sign-in="${o.mode}" data-options-url="${href(ctx, "/api/auth/webauthn/options")}" data-verify-url="${href(ctx, verify)}" data-done-url="${done}" hidden>${o.label}</button>
</div>`;
}

const RECOVERY = "recovery_code";
const PASSKEY = "webauthn";
const METHOD = /^[a-z_]{1,32}$/;

/** The methods a page offers, carried through the form so a wrong code shows the same choices (presentation only). */
function offeredMethods(raw: string, fallback: string): string[] {
  const list = raw.split(",").filter((m) => METHOD.test(m)).slice(0, 8);
  if (METHOD.test(fallback) && !list.includes(fallback)) list.push(fallback);
  return list;
}

/** What the second-factor form shows: the methods offered, where to go after, any error. */
export interface SecondFactorPageView {
  methods: readonly string[];
  returnTo: string;
  errors?: FormErrors;
  /** The method just tried (its form opens, with the error). */
  active?: string;
  /** A signed-in session stepping up (a `two_factor` rule), rather than a sign-in's second step. */
  stepUp?: boolean;
}

/**
 * The second step of a sign-in, or the step-up of a signed-in session: a
 * passkey button when one is enrolled (passkeys.js), a code form for the first
 * code method and, when the user has recovery codes, a second form under "Use
 * a recovery code" (open when that is what was just tried).
 */
export function secondFactorPage(ctx: PageContext, o: SecondFactorPageView) {
  const passkey = o.methods.includes(PASSKEY);
  const primary = o.methods.find((m) => m !== RECOVERY && m !== PASSKEY);
  const recovery = o.methods.includes(RECOVERY);
  const active = o.active ?? primary ?? RECOVERY;
  const offered = o.methods.join(",");
  const leave = o.stepUp ? html`<a href="${href(ctx, "/account")}">Cancel</a>` : html`<a href="${href(ctx, "/login")}">Start over</a>`;
  const form = (method: string, label: string, id: string, withErrors: boolean) => html`<form class="stack" method="post" action="${href(ctx, "/login/second-factor")}">
${csrfField(ctx)}
<input type="hidden" name="return" value="${o.returnTo}">
<input type="hidden" name="method" value="${method}">
<input type="hidden" name="offered" value="${offered}">
${field({ name: "code", id, label, autocomplete: method === RECOVERY ? "off" : "one-time-code", required: true, maxlength: 1024, autofocus: method === active, errors: withErrors ? o.errors : undefined })}
<div class="row spread"><button type="submit">Continue</button>${leave}</div>
</form>`;
  return layout(ctx, {
    title: "Second factor",
    narrow: true,
    ...(passkey ? { scripts: ["simplewebauthn-browser.js", "passkeys.js"] } : {}),
    body: html`<div class="card">
<h1>Confirm it is you</h1>
${o.stepUp ? html`<p class="muted">This page needs a second factor. Enter a code from your second factor to continue.</p>` : ""}
${formError(o.errors)}
${passkey ? passkeySignIn(ctx, { mode: "second_factor", returnTo: o.returnTo, label: "Use a passkey" }) : ""}
${primary !== undefined ? form(primary, "Code", "f-code", active === primary) : ""}
${
  recovery
    ? primary !== undefined
      ? html`<details${active === RECOVERY ? html` open` : ""}>
<summary>Use a recovery code</summary>
<p class="muted">Lost your device? Enter one of the recovery codes you saved, e.g. <span class="mono">abcd-efgh-jkmn-pqrs-tvwx</span>. Each code works once.</p>
${form(RECOVERY, "Recovery code", "f-recovery-code", active === RECOVERY)}
</details>`
      : form(RECOVERY, "Recovery code", "f-recovery-code", true)
    : primary === undefined
      ? html`<p>${leave}</p>`
      : ""
}
</div>`,
  });
}

/** Sends the second-factor form (after a password that needs one, or after a wrong code). */
export function sendSecondFactorPage(
  request: FastifyRequest,
  reply: FastifyReply,
  o: SecondFactorPageView,
  status = 200,
): FastifyReply {
  return sendPage(reply, secondFactorPage(pageContext(request, reply), o), status);
}

/** A `?return=` carried on to another page of the portal. */
const carry = (raw: string): string => (raw === "" ? "" : `?return=${encodeURIComponent(raw)}`);

/**
 * `/login/second-factor`: the form a signed-in, one-factor session is sent to
 * by a `two_factor` rule (GET; a user with no second factor goes to enrol one
 * at `/account/mfa`), and its answer (POST), which either completes a pending
 * sign-in, as `POST /api/auth/mfa/verify` does, or steps the session up
 * (src/core/sign-in/step-up.ts); both then go to the validated return URL.
 */
export async function secondFactorPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps;
  const sessionOf = (request: FastifyRequest) => (request.auth?.via === "session" ? request.auth : null);

  app.get("/login/second-factor", { config: { access: "public" } }, async (request, reply) => {
    const raw = returnQuery(request) ?? "";
    const auth = sessionOf(request);
    if (auth === null) {
      // A sign-in waiting for its second factor (a provider's callback redirected here): its form.
      const pending = readPendingToken(request, config);
      const methods = pending === null ? null : await deps.pendingSignIn.methodsFor(pending, originOf(request));
      if (methods !== null) return sendSecondFactorPage(request, reply, { methods, returnTo: raw });
      return seeOther(reply, `${request.basePath}/login${carry(raw)}`);
    }
    if (auth.session.aal === "aal2") return seeOther(reply, returnTarget(deps, request, raw));
    const methods = await deps.stepUp.methodsOf(auth.user.id);
    if (methods.length === 0) return seeOther(reply, `${request.basePath}/account/mfa${carry(raw)}`);
    return sendSecondFactorPage(request, reply, { methods, returnTo: raw, stepUp: true });
  });

  app.post<{ Body: FormBody }>("/login/second-factor", { config: { access: "public", rateLimit: "login" } }, async (request, reply) => {
    const method = formValue(request.body, "method", 32);
    const code = formValue(request.body, "code", 1024);
    const raw = formValue(request.body, "return", 4096);
    const offered = offeredMethods(formValue(request.body, "offered", 512), method);
    const token = readPendingToken(request, config);
    const auth = sessionOf(request);
    if (token === null && auth === null) return seeOther(reply, `${request.basePath}/login`);
    try {
      if (token === null && auth !== null) {
        // The step-up: the methods come from the server (the session's and the verifier's), never from the form.
        setSessionCookie(reply, config, await deps.stepUp.verify(auth, { method, code }, originOf(request)));
      } else if (token !== null) {
        await completeSignIn(request, reply, config, (replacing) => deps.pendingSignIn.complete(token, { method, code }, originOf(request), replacing));
      }
      return seeOther(reply, returnTarget(deps, request, raw));
    } catch (err) {
      if (isGatehouseError(err, "sign_in_expired")) {
        clearPendingCookie(reply, config);
        return seeOther(reply, `${request.basePath}/login`);
      }
      if (!isGatehouseError(err) || err.status < 400 || err.status >= 500) throw err;
      if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
      return sendSecondFactorPage(request, reply, { methods: offered, returnTo: raw, errors: { form: `${err.message}.` }, active: method, stepUp: token === null }, err.status);
    }
  });
}
