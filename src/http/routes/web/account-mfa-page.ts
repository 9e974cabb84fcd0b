import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import { html } from "../../../web/html.js";
import { layout } from "../../../web/layout.js";
import { href, type PageContext } from "../../../web/page-context.js";
import type { AppDeps } from "../../types.js";
import { pageContext, sendPage } from "./page.js";
import { returnQuery } from "./return-target.js";

/** The second factors a user can enrol, each on its own page (built by each kind of factor). */
function accountMfaPage(ctx: PageContext, o: { methods: readonly string[]; returnTo: string }) {
  const has = (method: string) => o.methods.includes(method);
  const back = o.returnTo === "" ? "" : `?return=${encodeURIComponent(o.returnTo)}`;
  return layout(ctx, {
    title: "Two-factor authentication",
    body: html`<div class="card" id="two-factor">
<h1>Two-factor authentication</h1>
<p>${o.methods.length === 0 ? "Your account has no second factor yet. Some pages need one: set one up below." : "Your account has a second factor."}</p>
<ul>
<li><a href="${href(ctx, "/account/mfa/totp")}">Authenticator app (one-time codes)</a>${has("totp") ? " · set up" : ""}</li>
<li><a href="${href(ctx, "/account")}#passkeys">Passkeys</a>${has("webauthn") ? " · set up" : ""}</li>
</ul>
${o.returnTo !== "" && o.methods.length > 0 ? html`<p><a href="${href(ctx, "/login/second-factor")}${back}">Continue to the page you asked for</a></p>` : ""}
<p><a href="${href(ctx, "/account")}">Back to your account</a></p>
</div>`,
  });
}

/**
 * `GET /account/mfa`: where a `two_factor` rule sends a signed-in user who has
 * no second factor. It lists what can be enrolled; each kind of factor has its
 * own page (`/account/mfa/totp`, the passkeys section of `/account`).
 */
export async function accountMfaPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get("/account/mfa", { config: { access: "user", rateLimit: "api" } }, async (request, reply) => {
    if (request.auth?.via !== "session") throw new GatehouseError("unauthenticated");
    const methods = await deps.stepUp.methodsOf(request.auth.user.id);
    return sendPage(reply, accountMfaPage(pageContext(request, reply), { methods, returnTo: returnQuery(request) ?? "" }));
  });
}
