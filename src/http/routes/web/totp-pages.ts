import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import type { Session } from "../../../core/sessions/session.js";
import type { User } from "../../../core/users/user.js";
import { formValue, type FormBody } from "../../../web/form.js";
import type { FormErrors } from "../../../web/components.js";
import { totpSetupPage, type TotpSetupView } from "../../../web/pages/totp-setup-page.js";
import { originOf } from "../../origin.js";
import { setSessionCookie } from "../../plugins/session-cookie.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage } from "./page.js";

const signedIn = { access: "user", rateLimit: "api" } as const;

function auth(request: FastifyRequest): { user: User; session: Session } {
  if (request.auth?.via !== "session") throw new GatehouseError("unauthenticated");
  return request.auth;
}

/** A typed code without the spaces apps show in the middle. */
function typedCode(body: FormBody | undefined): string {
  return formValue(body, "code", 64).replace(/\s+/g, "");
}

/**
 * `/account/mfa/totp`: the authenticator-app setup pages. The secret is shown
 * on the answer to the start form (and again after a wrong first code), never
 * on a GET.
 */
export async function totpPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { totp, accounts, secondFactors, config } = deps;

  /** Starting needs a recent re-authentication when the user already has a second factor. */
  async function needsReauth(user: User, session: Session): Promise<boolean> {
    return !accounts.isRecentlyAuthenticated(session) && (await secondFactors.methodsOf(user.id)).length > 0;
  }

  async function render(request: FastifyRequest, reply: FastifyReply, view: Partial<TotpSetupView>, status = 200) {
    const { user, session } = auth(request);
    const full: TotpSetupView = {
      replacing: await totp.isEnrolled(user.id),
      needsReauth: view.enrolment ? false : await needsReauth(user, session),
      ...view,
    };
    return sendPage(reply, totpSetupPage(pageContext(request, reply), full), status, { noReferrer: full.enrolment !== undefined });
  }

  const message = (err: GatehouseError): FormErrors =>
    err.code === "reauth_required" ? { fields: { password: "Confirm your password to continue." } }
    : err.code === "invalid_password" ? { fields: { password: "The password is incorrect." } }
    : { form: `${err.message}.` };

  app.get("/account/mfa/totp", { config: signedIn }, async (request, reply) => render(request, reply, {}));

  app.post<{ Body: FormBody }>("/account/mfa/totp", { config: signedIn }, async (request, reply) => {
    const { user, session } = auth(request);
    const password = formValue(request.body, "password", 65_536);
    try {
      if (await needsReauth(user, session)) {
        if (password === "") throw new GatehouseError("reauth_required", { fields: ["password"] });
        const issued = await accounts.reauthenticate(user, session, password, originOf(request));
        setSessionCookie(reply, config, issued);
        request.server.webCsrf.useRotatedSession(request, issued.token);
        request.auth = { user, session: issued.session, via: "session" };
      }
      return await render(request, reply, { enrolment: await totp.enrol(user) });
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
      return render(request, reply, { errors: message(err) }, err.status);
    }
  });

  app.post<{ Body: FormBody }>("/account/mfa/totp/confirm", { config: signedIn }, async (request, reply) => {
    const { user } = auth(request);
    const code = typedCode(request.body);
    const enrolment = await totp.pendingEnrolment(user);
    if (enrolment === null) return seeOther(reply, `${request.basePath}/account/mfa/totp`);
    try {
      if (!/^[0-9]{6}$/.test(code)) throw new GatehouseError("invalid_request", { fields: ["code"] });
      await totp.confirm(user, code, originOf(request));
      return seeOther(reply, `${request.basePath}/account?notice=totp_enabled`);
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.code === "unauthenticated") throw err;
      if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
      const errors: FormErrors =
        err.code === "invalid_request" ? { fields: { code: "Enter the 6 digits the app shows." } }
        : err.code === "invalid_second_factor" ? { fields: { code: "That code is not right. Check the app and enter the current code." } }
        : { form: `${err.message}.` };
      return render(request, reply, { enrolment, errors }, err.status);
    }
  });
}
