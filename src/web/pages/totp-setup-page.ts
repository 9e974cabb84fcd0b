import type { TotpEnrolment } from "../../core/mfa/totp/totp-service.js";
import { csrfField, field, formError, type FormErrors } from "../components.js";
import { html, raw, type SafeHtml } from "../html.js";
import { layout } from "../layout.js";
import { href, type PageContext } from "../page-context.js";

/** What the authenticator-app setup page shows. */
export interface TotpSetupView {
  /** The enrolment in progress (QR code, secret, code form); absent on the first visit (a start button). */
  enrolment?: TotpEnrolment;
  /** True when a confirmed app exists already (a new one replaces it once confirmed). */
  replacing: boolean;
  /** True when starting needs the password again (another second factor exists and the sudo window passed). */
  needsReauth: boolean;
  errors?: FormErrors;
}

/** The secret in groups of four, as apps show it (spaces are ignored when typed). */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

function start(ctx: PageContext, view: TotpSetupView): SafeHtml {
  return html`<p>An authenticator app (such as Aegis, Google Authenticator, 1Password or Microsoft Authenticator) shows a new
6-digit code every 30 seconds. Once it is set up, signing in asks for that code after your password.</p>
${view.replacing ? html`<p class="muted">You already have an authenticator app. A new one replaces it once you confirm its first code; until then the old one keeps working.</p>` : ""}
${formError(view.errors)}
<form class="stack" method="post" action="${href(ctx, "/account/mfa/totp")}">
${csrfField(ctx)}
${
  view.needsReauth
    ? field({ name: "password", label: "Confirm your password", type: "password", autocomplete: "current-password", required: true, errors: view.errors, hint: "Needed because you signed in more than 10 minutes ago." })
    : ""
}
<div class="row spread"><button type="submit">Begin setup</button><a href="${href(ctx, "/account")}">Cancel</a></div>
</form>`;
}

function scan(ctx: PageContext, enrolment: TotpEnrolment, errors: FormErrors | undefined): SafeHtml {
  // The SVG comes from our own renderer (src/core/mfa/totp/totp-qr.ts): markup only, no script or style attribute.
  return html`<ol class="stack">
<li>Scan this QR code with your authenticator app:
<div class="qr" role="img" aria-label="QR code of your authenticator app's secret">${raw(enrolment.qrSvg)}</div></li>
<li>Or enter this key in the app by hand (time-based, 6 digits, every 30 seconds):
<div class="secret"><code id="totp-secret">${grouped(enrolment.secret)}</code></div></li>
<li>Enter the code the app shows now.</li>
</ol>
${formError(errors)}
<form class="stack" method="post" action="${href(ctx, "/account/mfa/totp/confirm")}">
${csrfField(ctx)}
${field({ name: "code", label: "Code from the app", autocomplete: "one-time-code", required: true, maxlength: 16, autofocus: true, errors, hint: "6 digits." })}
<div class="row spread"><button type="submit">Turn on</button><a href="${href(ctx, "/account")}">Cancel</a></div>
</form>`;
}

/** `/account/mfa/totp`: set up an authenticator app (a start button, then the QR code, the key and the first code). */
export function totpSetupPage(ctx: PageContext, view: TotpSetupView): SafeHtml {
  return layout(ctx, {
    title: "Set up an authenticator app",
    narrow: true,
    body: html`<div class="card">
<h1>Set up an authenticator app</h1>
${view.enrolment ? scan(ctx, view.enrolment, view.errors) : start(ctx, view)}
</div>`,
  });
}
