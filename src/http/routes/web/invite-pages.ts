import type { FastifyInstance } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import { USERNAME_MAX, USERNAME_MIN } from "../../../core/users/username.js";
import { csrfField, field, formError, type FormErrors } from "../../../web/components.js";
import { formValue, type FormBody } from "../../../web/form.js";
import { html } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import { providerButtons, type ProviderButton } from "../../../web/provider-buttons.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import type { AppDeps } from "../../types.js";
import { enabledProviders } from "./login-pages.js";
import { pageContext, seeOther, sendPage } from "./page.js";
import { errorsFor, passwordPolicyHint } from "./register-pages.js";

const BAD_INVITATION = "This invitation is invalid, was already used, was revoked or has expired. Ask the person who invited you for a new one.";

/** No query parameters: an invitation token is never read from a URL's query (it would reach logs and Referer headers). */
const NO_QUERY = { type: "object", additionalProperties: false, maxProperties: 0 } as const;

interface InvitePageView {
  username?: string;
  errors?: FormErrors;
  minLength: number;
  /** The enabled identity providers: an invitation is also redeemed by signing up with the invited, verified address. */
  providers: readonly ProviderButton[];
  /** `PASSWORD_LOGIN`: off, no password form. */
  password: boolean;
}

function invitePage(ctx: PageContext, o: InvitePageView) {
  const names = o.providers.map((p) => p.name).join(" or ");
  return layout(ctx, {
    title: "Accept your invitation",
    narrow: true,
    body: html`<div class="card">
<h1>Create your account</h1>
<p>You were invited by an administrator. Your account gets the email address the invitation was sent to.</p>
${formError(o.errors)}
${o.password ? passwordForm(ctx, o) : ""}
${
  o.providers.length > 0
    ? html`<p class="${o.password ? "or" : "muted"}" data-provider-note>${o.password ? "Or sign up" : "Sign up"} with ${names} using the invited address.</p>
${providerButtons(ctx, o.providers, { verb: "Sign up", returnTo: "" })}`
    : ""
}
</div>
<p class="muted">Already have an account? <a href="${href(ctx, "/login")}">Sign in</a>.</p>`,
  });
}

function passwordForm(ctx: PageContext, o: InvitePageView) {
  return html`<form class="stack" method="post" action="${href(ctx, "/invite")}">
${csrfField(ctx)}
<div data-token-box>
${field({ name: "invitation", label: "Invitation code", autocomplete: "off", required: true, maxlength: 256, errors: o.errors, data: { "fragment-token": "" }, hint: html`<span data-token-note>Filled in from the link. Without JavaScript, paste the part of the link after <code>#token=</code>.</span>` })}
</div>
${field({ name: "username", label: "Username", value: o.username, autocomplete: "username", required: true, maxlength: USERNAME_MAX, autofocus: true, errors: o.errors, hint: `${USERNAME_MIN} to ${USERNAME_MAX} letters, digits, '.', '_' or '-'.` })}
${field({ name: "password", label: "Password", type: "password", autocomplete: "new-password", required: true, errors: o.errors, hint: passwordPolicyHint(o.minLength) })}
<button type="submit">Create account</button>
</form>`;
}

/**
 * `/invite`: the page of an invitation link (`PUBLIC_URL/invite#token=…`).
 * The token stays in the URL fragment (never sent to a server); the page
 * script moves it into the form. Works in every registration mode.
 */
export async function invitePages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { config } = deps;
  const minLength = config.passwordMinLength;
  const signUp = () => ({ providers: enabledProviders(deps), password: config.signInMethods.password });

  app.get("/invite", { config: { access: "public" }, schema: { querystring: NO_QUERY } }, async (request, reply) =>
    sendPage(reply, invitePage(pageContext(request, reply), { minLength, ...signUp() }), 200, { noReferrer: true }),
  );

  app.post<{ Body: FormBody }>(
    "/invite",
    { config: { access: "public", rateLimit: "register", hashing: true }, schema: { querystring: NO_QUERY } },
    async (request, reply) => {
      const invitation = formValue(request.body, "invitation", 256).trim();
      const username = formValue(request.body, "username", 256);
      const password = formValue(request.body, "password", 65_536);
      try {
        if (invitation === "") throw new GatehouseError("invalid_token", { fields: ["invitation"] });
        const outcome = await completeSignIn(request, reply, config, (replacing) => deps.registration.register({ username, password, invitation, replacing }, originOf(request)));
        if (outcome.status !== "registered" || outcome.issued === null) throw new Error("invited registration did not sign in");
        return seeOther(reply, `${request.basePath}/account`);
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429) throw err;
        // The page has no email field (the invitation fixes the address): an address problem is a form message.
        const errors: FormErrors =
          err.code === "invalid_token" ? { fields: { invitation: BAD_INVITATION } } : err.fields?.includes("email") ? { form: `${err.message}.` } : errorsFor(err, minLength);
        return sendPage(reply, invitePage(pageContext(request, reply), { username, errors, minLength, ...signUp() }), err.status, { noReferrer: true });
      }
    },
  );
}
