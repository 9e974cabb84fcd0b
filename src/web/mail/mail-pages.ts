import { csrfField, field, formError, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { layout } from "../layout.js";
import { href, type PageContext } from "../page-context.js";

const TOKEN_NOTE = html`<span data-token-note>Filled in from the link. Without JavaScript, paste the part of the link after <code>#token=</code>.</span>`;

/** The token field: filled from the URL fragment by the page script, which then drops the fragment. */
function tokenField(errors: FormErrors | undefined): SafeHtml {
  return field({ name: "token", label: "Code from the link", type: "password", autocomplete: "off", required: true, maxlength: 128, errors, data: { "fragment-token": "" }, hint: TOKEN_NOTE });
}

/** A narrow page asking for an email address, posted to `action` (forgot password, resend confirmation). */
function emailRequestPage(ctx: PageContext, page: { title: string; intro?: string; action: string }, o: { email?: string; errors?: FormErrors }): SafeHtml {
  return layout(ctx, {
    title: page.title,
    narrow: true,
    body: html`<div class="card">
<h1>${page.title}</h1>
${page.intro === undefined ? "" : html`<p>${page.intro}</p>`}
${formError(o.errors)}
<form class="stack" method="post" action="${href(ctx, page.action)}">
${csrfField(ctx)}
${field({ name: "email", label: "Email", type: "email", value: o.email, autocomplete: "email", required: true, maxlength: 254, autofocus: true, errors: o.errors })}
<button type="submit">Send the link</button>
</form>
</div>
<p class="muted"><a href="${href(ctx, "/login")}">Back to sign in</a></p>`,
  });
}

/** `/forgot-password`: asks for the address. */
export function forgotPage(ctx: PageContext, o: { email?: string; errors?: FormErrors }): SafeHtml {
  return emailRequestPage(
    ctx,
    {
      title: "Forgot your password?",
      intro: "Enter the email address of your account. If it is registered, we will send a link to choose a new password.",
      action: "/forgot-password",
    },
    o,
  );
}

/** The answer to every mail-sending form: the same whether or not the address is registered. */
export function checkMailPage(ctx: PageContext, what: "reset" | "verify"): SafeHtml {
  const text =
    what === "reset"
      ? "If an account uses this address, a link to choose a new password is on its way. It works once, for 60 minutes."
      : "If an account with an unconfirmed address uses it, a new confirmation link is on its way. It works for 24 hours.";
  return layout(ctx, {
    title: "Check your email",
    narrow: true,
    body: html`<div class="card" data-status="sent_if_registered"><h1>Check your email</h1>
<p>${text}</p>
<p class="muted">Nothing arrived after a few minutes? Look in your spam folder. To protect your inbox, only a few mails are sent per hour.</p>
<p><a href="${href(ctx, "/login")}">Back to sign in</a></p></div>`,
  });
}

/** `/reset-password`: the page the reset link opens (token in the fragment, POST only). */
export function resetPage(ctx: PageContext, o: { errors?: FormErrors; passwordHint: SafeHtml }): SafeHtml {
  return layout(ctx, {
    title: "Choose a new password",
    narrow: true,
    body: html`<div class="card">
<h1>Choose a new password</h1>
<p>Every session of your account will be signed out, and you will sign in again with the new password.</p>
${formError(o.errors)}
<form class="stack" method="post" action="${href(ctx, "/reset-password")}">
${csrfField(ctx)}
${tokenField(o.errors)}
${field({ name: "password", label: "New password", type: "password", autocomplete: "new-password", required: true, errors: o.errors, hint: o.passwordHint })}
<button type="submit">Set the new password</button>
</form>
</div>
<p class="muted">Link expired? <a href="${href(ctx, "/forgot-password")}">Ask for a new one</a>.</p>`,
  });
}

/** `/verify-email`: the landing page of a confirmation link; the address is confirmed only by the POST. */
export function verifyPage(ctx: PageContext, o: { errors?: FormErrors }): SafeHtml {
  return layout(ctx, {
    title: "Confirm your email address",
    narrow: true,
    body: html`<div class="card">
<h1>Confirm your email address</h1>
${formError(o.errors)}
<form class="stack" method="post" action="${href(ctx, "/verify-email")}">
${csrfField(ctx)}
${tokenField(o.errors)}
<button type="submit">Confirm my address</button>
</form>
</div>
<p class="muted">Link expired? <a href="${href(ctx, "/resend-verification")}">Send a new one</a>.</p>`,
  });
}

/** `/resend-verification`: asks for the address to send a new confirmation link to. */
export function resendPage(ctx: PageContext, o: { email?: string; errors?: FormErrors }): SafeHtml {
  return emailRequestPage(ctx, { title: "Send a new confirmation link", action: "/resend-verification" }, o);
}

/** `/account/email`: change the address (the password re-authenticates when the sudo window has passed). */
export function changeEmailPage(ctx: PageContext, o: { current: string | null; email?: string; errors?: FormErrors; needsPassword: boolean }): SafeHtml {
  return layout(ctx, {
    title: "Change your email address",
    narrow: true,
    body: html`<div class="card">
<h1>Change your email address</h1>
<p>Current address: ${o.current ?? "none"}. It stays in use until you follow the link we send to the new address; we will also tell the current one.</p>
${formError(o.errors)}
<form class="stack" method="post" action="${href(ctx, "/account/email")}">
${csrfField(ctx)}
${field({ name: "email", label: "New email", type: "email", value: o.email, autocomplete: "email", required: true, maxlength: 254, autofocus: true, errors: o.errors })}
${o.needsPassword ? field({ name: "password", label: "Current password", type: "password", autocomplete: "current-password", required: true, errors: o.errors, hint: "Confirm it's you." }) : ""}
<button type="submit">Send the confirmation link</button>
</form>
</div>
<p class="muted"><a href="${href(ctx, "/account")}">Back to your account</a></p>`,
  });
}
