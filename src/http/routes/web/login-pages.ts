import type { FastifyInstance } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import { csrfField, field, checkbox, formError, type FormErrors } from "../../../web/components.js";
import { formChecked, formValue, type FormBody } from "../../../web/form.js";
import { html } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import { providerButtons, type ProviderButton } from "../../../web/provider-buttons.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import { clearSessionCookie, readSessionToken, sessionCookieName } from "../../plugins/session-cookie.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage } from "./page.js";
import { returnQuery, returnTarget } from "./return-target.js";
import { passkeySignIn, sendSecondFactorPage } from "./second-factor-pages.js";

function loginPage(
  ctx: PageContext,
  o: {
    login?: string;
    remember?: boolean;
    returnTo: string;
    errors?: FormErrors;
    registration: boolean;
    rememberDays: number;
    forgotPassword: boolean;
    passkeys: boolean;
    /** The enabled identity providers (one button each). */
    providers: readonly ProviderButton[];
    /** `PASSWORD_LOGIN`: off, no password form (the buttons and passkeys only). */
    password: boolean;
  },
) {
  const passwordForm = html`<form class="stack" method="post" action="${href(ctx, "/login")}">
${csrfField(ctx)}
<input type="hidden" name="return" value="${o.returnTo}">
${field({ name: "username", label: "Username or email", value: o.login, autocomplete: "username", required: true, maxlength: 1024, autofocus: true, errors: o.errors })}
${field({ name: "password", label: "Password", type: "password", autocomplete: "current-password", required: true, errors: o.errors })}
${checkbox({ name: "remember", label: `Keep me signed in on this device for ${o.rememberDays} day${o.rememberDays === 1 ? "" : "s"}`, checked: o.remember === true })}
<div class="row spread"><button type="submit">Sign in</button>${o.forgotPassword ? html`<a href="${href(ctx, "/forgot-password")}">Forgot your password?</a>` : ""}</div>
</form>`;
  return layout(ctx, {
    title: "Sign in",
    narrow: true,
    ...(o.passkeys ? { scripts: ["simplewebauthn-browser.js", "passkeys.js"] } : {}),
    body: html`<div class="card">
<h1>Sign in</h1>
${formError(o.errors)}
${o.password ? passwordForm : ""}
${o.password && o.providers.length > 0 ? html`<p class="or">or</p>` : ""}
${providerButtons(ctx, o.providers, { verb: "Sign in", returnTo: o.returnTo })}
${o.passkeys ? passkeySignIn(ctx, { mode: "passwordless", returnTo: o.returnTo, label: "Sign in with a passkey" }) : ""}
</div>
${o.registration ? html`<p class="muted">New here? <a href="${href(ctx, "/register")}">Create an account</a>.</p>` : ""}`,
  });
}

/** The enabled identity providers, as the sign-in and sign-up buttons show them. */
export function enabledProviders(deps: Pick<AppDeps, "providers">): ProviderButton[] {
  return deps.providers.enabled().map((p) => ({ id: p.id, name: p.name, freshSignIn: p.type !== "github" }));
}

/** `/login` (form and POST) and `/logout` (POST only, SESS-09). */
export async function loginPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, config } = deps;
  const cookieName = sessionCookieName(config);

  // The "forgot your password?" link appears once the email pages provide `/forgot-password`.
  let forgot: boolean | null = null;
  const hasForgotPage = () => (forgot ??= app.hasRoute({ method: "GET", url: "/forgot-password" }));

  app.get("/login", { config: { access: "public" } }, async (request, reply) => {
    const raw = returnQuery(request);
    if (request.auth?.via === "session") return seeOther(reply, returnTarget(deps, request, raw));
    const settings = await deps.settings.current();
    const page = loginPage(pageContext(request, reply), {
      returnTo: raw ?? "",
      registration: settings.registration === "open",
      rememberDays: settings.sessionRememberDays,
      forgotPassword: hasForgotPage(),
      passkeys: deps.passkeys !== undefined,
      providers: enabledProviders(deps),
      password: config.signInMethods.password,
    });
    return sendPage(reply, page);
  });

  app.post<{ Body: FormBody }>(
    "/login",
    { config: { access: "public", rateLimit: "login", hashing: true } },
    async (request, reply) => {
      const login = formValue(request.body, "username", 1024);
      const password = formValue(request.body, "password", 65_536);
      const remember = formChecked(request.body, "remember");
      const raw = formValue(request.body, "return", 4096);
      const render = async (errors: FormErrors, status: number) => {
        const settings = await deps.settings.current();
        const page = loginPage(pageContext(request, reply), {
          login,
          remember,
          returnTo: raw,
          errors,
          registration: settings.registration === "open",
          rememberDays: settings.sessionRememberDays,
          forgotPassword: hasForgotPage(),
          passkeys: deps.passkeys !== undefined,
          providers: enabledProviders(deps),
          password: config.signInMethods.password,
        });
        return sendPage(reply, page, status);
      };
      // PASSWORD_LOGIN=off: the form is not offered; a post of it anyway gets the API's refusal on the page.
      if (!config.signInMethods.password) return render({ form: `${new GatehouseError("password_login_disabled").message}.` }, 403);
      if (login === "" || password === "") {
        const fields: Record<string, string> = {};
        if (login === "") fields.username = "Enter your username or email.";
        if (password === "") fields.password = "Enter your password.";
        return render({ fields }, 400);
      }
      try {
        const outcome = await completeSignIn(request, reply, config, (replacing) => accounts.login({ login, password, remember, replacing }, originOf(request)));
        // A second factor is needed: the pending cookie is set; the code form posts to /login/second-factor.
        if (outcome.status === "mfa_required") return sendSecondFactorPage(request, reply, { methods: outcome.methods, returnTo: raw });
        return seeOther(reply, returnTarget(deps, request, raw));
      } catch (err) {
        // Wrong credentials, a blocked account, throttling…: answered on the form, with docs/api.md's status and message.
        if (!isGatehouseError(err) || err.status < 400 || err.status >= 500) throw err;
        if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
        return render({ form: `${err.message}.` }, err.status);
      }
    },
  );

  app.post("/logout", { config: { access: "public" } }, async (request, reply) => {
    const token = readSessionToken(request, cookieName);
    if (token !== null) await accounts.logout(token, originOf(request));
    clearSessionCookie(reply, config);
    reply.header("Clear-Site-Data", '"cache", "cookies", "storage"');
    return seeOther(reply, `${request.basePath}/login?notice=signed_out`);
  });
}
