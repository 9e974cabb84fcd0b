import type { FastifyInstance } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import type { RegistrationMode } from "../../../core/registration/registration-mode.js";
import { USERNAME_MAX, USERNAME_MIN } from "../../../core/users/username.js";
import { csrfField, field, formError, type FormErrors } from "../../../web/components.js";
import { formValue, type FormBody } from "../../../web/form.js";
import { html, type SafeHtml } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import { providerButtons, type ProviderButton } from "../../../web/provider-buttons.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import type { AppDeps } from "../../types.js";
import { enabledProviders } from "./login-pages.js";
import { pageContext, seeOther, sendPage } from "./page.js";

/** The password rules, stated before the user types (docs/security-requirements.md#product-defaults, AUTH-01 to AUTH-04). */
export function passwordPolicyHint(minLength: number): SafeHtml {
  return html`At least ${minLength} characters. Spaces, symbols and emoji are all fine; no other rules. It must not be a commonly used
password, nor contain your username, the name before the @ of your email, or “gatehouse”. A password manager works well here.`;
}

/** The message shown under a field for an error code of the account service. */
export function fieldMessage(err: GatehouseError, field: string, minLength: number): string {
  switch (err.code) {
    case "password_too_short":
      return `Use at least ${minLength} characters.`;
    case "password_too_long":
      return "Use at most 256 characters.";
    case "password_common":
      return "This password is too common; choose another one.";
    case "password_contextual":
      return "The password must not contain your username, your email name or “gatehouse”.";
    case "username_taken":
      return "This username is already taken.";
    case "email_taken":
      return "This email address is already registered.";
    case "email_domain_not_allowed":
      return "Use an address of one of the domains this site accepts.";
    default:
      if (field === "username") return `Use ${USERNAME_MIN} to ${USERNAME_MAX} letters, digits, '.', '_' or '-', starting and ending with a letter or digit.`;
      if (field === "email") return "Enter a valid email address.";
      return `${err.message}.`;
  }
}

/** Turns a service error into per-field messages (or a form message when it names no field). */
export function errorsFor(err: GatehouseError, minLength: number): FormErrors {
  const fields: Record<string, string> = {};
  for (const name of err.fields ?? []) fields[name] = fieldMessage(err, name, minLength);
  return Object.keys(fields).length > 0 ? { fields } : { form: `${err.message}.` };
}

interface RegisterPageView {
  username?: string;
  email?: string;
  errors?: FormErrors;
  minLength: number;
  emailRequired?: boolean;
  /** The enabled identity providers ("Sign up with <name>"). */
  providers: readonly ProviderButton[];
  /** `PASSWORD_LOGIN`: off, no password form (accounts come from the providers). */
  password: boolean;
}

function registerPage(ctx: PageContext, o: RegisterPageView) {
  return layout(ctx, {
    title: "Create an account",
    narrow: true,
    body: html`<div class="card">
<h1>Create an account</h1>
${formError(o.errors)}
${o.password ? passwordForm(ctx, o) : ""}
${o.password && o.providers.length > 0 ? html`<p class="or">or</p>` : ""}
${providerButtons(ctx, o.providers, { verb: "Sign up", returnTo: "" })}
</div>
<p class="muted">Already have an account? <a href="${href(ctx, "/login")}">Sign in</a>.</p>`,
  });
}

function passwordForm(ctx: PageContext, o: RegisterPageView) {
  return html`<form class="stack" method="post" action="${href(ctx, "/register")}">
${csrfField(ctx)}
${field({ name: "username", label: "Username", value: o.username, autocomplete: "username", required: true, maxlength: USERNAME_MAX, autofocus: true, errors: o.errors, hint: `${USERNAME_MIN} to ${USERNAME_MAX} letters, digits, '.', '_' or '-'.` })}
${field({ name: "email", label: o.emailRequired ? "Email" : "Email (optional)", type: "email", value: o.email, autocomplete: "email", maxlength: 254, required: o.emailRequired === true, errors: o.errors, hint: o.emailRequired ? "We will send you a link to confirm it." : undefined })}
${field({ name: "password", label: "Password", type: "password", autocomplete: "new-password", required: true, errors: o.errors, hint: passwordPolicyHint(o.minLength) })}
<button type="submit">Create account</button>
</form>`;
}

function checkEmailPage(ctx: PageContext) {
  return layout(ctx, {
    title: "Check your email",
    narrow: true,
    body: html`<div class="card" data-status="verification_sent"><h1>Check your email</h1>
<p>We sent a message to the address you entered. Follow the link in it to finish creating your account.</p>
<p class="muted">Nothing arrived after a few minutes? Look in your spam folder, or sign up again.</p>
<p><a href="${href(ctx, "/login")}">Back to sign in</a></p></div>`,
  });
}

function closedPage(ctx: PageContext, mode: RegistrationMode) {
  return layout(ctx, {
    title: "Registration is closed",
    narrow: true,
    body: html`<div class="card" data-error="registration_closed"><h1>Registration is closed</h1>
<p>${
      mode === "invite"
        ? "Accounts here are by invitation only. If an administrator invited you, open the link in their email."
        : "New accounts cannot be created here. Ask an administrator for an account or an invitation."
    }</p>
<p><a href="${href(ctx, "/login")}">Sign in</a></p></div>`,
  });
}



/** `/register`: the sign-up form, when the registration mode is `open`. */
export async function registerPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps;
  const minLength = config.passwordMinLength;

  const emailRequired = async () => (deps.emailVerification ? deps.emailVerification.required() : false);
  const signUp = () => ({ providers: enabledProviders(deps), password: config.signInMethods.password });

  app.get("/register", { config: { access: "public" } }, async (request, reply) => {
    if (request.auth?.via === "session") return seeOther(reply, `${request.basePath}/account`);
    const ctx = pageContext(request, reply);
    const mode = await deps.registration.mode();
    if (mode !== "open") return sendPage(reply, closedPage(ctx, mode), 403);
    return sendPage(reply, registerPage(ctx, { minLength, emailRequired: await emailRequired(), ...signUp() }));
  });

  app.post<{ Body: FormBody }>(
    "/register",
    { config: { access: "public", rateLimit: "register", hashing: true } },
    async (request, reply) => {
      const username = formValue(request.body, "username", 256);
      const email = formValue(request.body, "email", 1024);
      const password = formValue(request.body, "password", 65_536);
      try {
        const outcome = await completeSignIn(request, reply, config, (replacing) => deps.registration.register({ username, password, email, replacing }, originOf(request)));
        // Email verification required: the same answer for new and registered addresses, and no session (RST-07).
        if (outcome.status === "verification_sent") return sendPage(reply, checkEmailPage(pageContext(request, reply)), 202);
        return seeOther(reply, `${request.basePath}/account`);
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429) throw err;
        if (err.code === "registration_closed") return sendPage(reply, closedPage(pageContext(request, reply), await deps.registration.mode()), 403);
        const page = registerPage(pageContext(request, reply), { username, email, errors: errorsFor(err, minLength), minLength, emailRequired: await emailRequired(), ...signUp() });
        return sendPage(reply, page, err.status);
      }
    },
  );
}
