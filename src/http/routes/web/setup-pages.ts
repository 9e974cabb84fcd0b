import type { FastifyInstance } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import { checkNewPassword, defaultPasswordPolicy } from "../../../core/passwords/password-policy.js";
import { emailProblem } from "../../../core/users/email.js";
import { USERNAME_MAX, usernameProblem } from "../../../core/users/username.js";
import { csrfField, field, formError, type FormErrors } from "../../../web/components.js";
import { formValue, type FormBody } from "../../../web/form.js";
import { html } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage } from "./page.js";
import { errorsFor, passwordPolicyHint } from "./register-pages.js";

function inputProblem(username: string, email: string, password: string, minLength: number): GatehouseError | null {
  if (usernameProblem(username) !== null) return new GatehouseError("invalid_request", { fields: ["username"] });
  if (email.trim() !== "" && emailProblem(email) !== null) return new GatehouseError("invalid_request", { fields: ["email"] });
  const weak = checkNewPassword(password, { username, email }, { ...defaultPasswordPolicy, minLength });
  return weak === null ? null : new GatehouseError(weak, { fields: ["password"] });
}

function setupPage(ctx: PageContext, o: { username?: string; email?: string; errors?: FormErrors; minLength: number }) {
  return layout(ctx, {
    title: "Set up Gatehouse",
    narrow: true,
    body: html`<div class="card">
<h1>Create the first superadmin</h1>
<p>This account can manage every user and setting. The link you opened works once and expires 60 minutes after Gatehouse first started.</p>
${formError(o.errors)}
<form class="stack" method="post" action="${href(ctx, "/setup")}">
${csrfField(ctx)}
${field({ name: "token", label: "Setup token", autocomplete: "off", required: true, maxlength: 128, errors: o.errors, data: { "fragment-token": "" }, hint: html`<span data-token-note>Filled in from the link. Without JavaScript, paste the part of the link after <code>#token=</code>.</span>` })}
${field({ name: "username", label: "Username", value: o.username, autocomplete: "username", required: true, maxlength: USERNAME_MAX, errors: o.errors })}
${field({ name: "email", label: "Email (optional)", type: "email", value: o.email, autocomplete: "email", maxlength: 254, errors: o.errors })}
${field({ name: "password", label: "Password", type: "password", autocomplete: "new-password", required: true, errors: o.errors, hint: passwordPolicyHint(o.minLength) })}
<button type="submit">Create superadmin</button>
</form>
</div>`,
  });
}

/**
 * `/setup`: the page of the one-time link printed at first start. The token
 * travels in the URL fragment (never sent to any server or log); the page's
 * script moves it into the form. 404 once a superadmin exists.
 */
export async function setupPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { firstSuperadmin, config } = deps;
  const minLength = config.passwordMinLength;

  app.get("/setup", { config: { access: "public" } }, async (request, reply) => {
    if (!(await firstSuperadmin.open())) throw new GatehouseError("not_found");
    return sendPage(reply, setupPage(pageContext(request, reply), { minLength }), 200, { noReferrer: true });
  });

  app.post<{ Body: FormBody }>("/setup", { config: { access: "public", rateLimit: "login", hashing: true } }, async (request, reply) => {
    if (!(await firstSuperadmin.open())) throw new GatehouseError("not_found");
    const token = formValue(request.body, "token", 128);
    const username = formValue(request.body, "username", 256);
    const email = formValue(request.body, "email", 1024);
    const password = formValue(request.body, "password", 65_536);
    // Check the input before the one-time token is spent on it (the service consumes it first).
    const problem = inputProblem(username, email, password, minLength);
    if (problem !== null) return sendPage(reply, setupPage(pageContext(request, reply), { username, email, errors: errorsFor(problem, minLength), minLength }), problem.status, { noReferrer: true });
    try {
      await completeSignIn(request, reply, config, (replacing) => firstSuperadmin.complete(token, { username, password, email }, originOf(request), replacing));
      // Where admins must have a second factor (AZ-06), the new superadmin is taken straight to adding one.
      const next = deps.mfaPolicy.requiredFor({ role: "superadmin" }) ? "/account/mfa?notice=setup_done_add_factor" : "/account?notice=setup_done";
      return seeOther(reply, `${request.basePath}${next}`);
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429) throw err;
      const errors = err.code === "forbidden" ? { fields: { token: "This setup token is invalid, used or expired. Restart Gatehouse to print a new link." } } : errorsFor(err, minLength);
      return sendPage(reply, setupPage(pageContext(request, reply), { username, email, errors, minLength }), err.status, { noReferrer: true });
    }
  });
}
