import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../../core/errors.js";
import type { Session } from "../../../../core/sessions/session.js";
import type { FormErrors } from "../../../../web/components.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { changeEmailPage, checkMailPage, forgotPage, resendPage, resetPage, verifyPage } from "../../../../web/mail/mail-pages.js";
import { originOf } from "../../../origin.js";
import { setSessionCookie } from "../../../plugins/session-cookie.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { errorsFor, passwordPolicyHint } from "../register-pages.js";

const NO_REFERRER = { noReferrer: true } as const;
const BAD_TOKEN = "This link is invalid, was already used or has expired. Ask for a new one below.";

/** A service error as form errors, with the token message for `invalid_token`. */
function formErrors(err: GatehouseError, minLength: number): FormErrors {
  if (err.code === "invalid_token") return { fields: { token: BAD_TOKEN } };
  if (err.code === "invalid_request" && err.fields?.includes("email")) return { fields: { email: "Enter a valid email address." } };
  if (err.code === "invalid_password") return { fields: { password: "The password is incorrect." } };
  if (err.code === "reauth_required") return { fields: { password: "Confirm your current password." } };
  return errorsFor(err, minLength);
}

/** Client errors are shown on the form; 429 and 5xx go to the error page. */
function shown(err: unknown): err is GatehouseError {
  return isGatehouseError(err) && err.status < 500 && err.status !== 429;
}

/**
 * The email pages: forgot password, reset (the link's landing page),
 * verify (the confirmation link's landing page), resend, change email. The
 * mailed links carry their token in the URL fragment, which the page script
 * moves into the form and drops from the address bar; token pages send
 * `Referrer-Policy: no-referrer` and act only on POST (RST-04).
 */
export async function mailPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { passwordReset, emailVerification, emailChange, accounts, config } = deps;
  if (!passwordReset || !emailVerification || !emailChange) return;
  const minLength = config.passwordMinLength;
  const passwordHint = passwordPolicyHint(minLength);

  app.get("/forgot-password", { config: { access: "public" } }, async (request, reply) => sendPage(reply, forgotPage(pageContext(request, reply), {})));

  app.post<{ Body: FormBody }>("/forgot-password", { config: { access: "public", rateLimit: "forgotPassword" } }, async (request, reply) => {
    const email = formValue(request.body, "email", 1024);
    try {
      passwordReset.request(email, originOf(request));
    } catch (err) {
      if (!shown(err)) throw err;
      return sendPage(reply, forgotPage(pageContext(request, reply), { email, errors: formErrors(err, minLength) }), err.status);
    }
    return sendPage(reply, checkMailPage(pageContext(request, reply), "reset"), 202);
  });

  app.get("/reset-password", { config: { access: "public" } }, async (request, reply) =>
    sendPage(reply, resetPage(pageContext(request, reply), { passwordHint }), 200, NO_REFERRER),
  );

  app.post<{ Body: FormBody }>("/reset-password", { config: { access: "public", hashing: true } }, async (request, reply) => {
    if (deps.hashing.saturated()) throw new GatehouseError("overloaded", { retryAfter: 1 });
    const token = formValue(request.body, "token", 256);
    const password = formValue(request.body, "password", 65_536);
    try {
      await passwordReset.reset(token, password, originOf(request));
    } catch (err) {
      if (!shown(err)) throw err;
      return sendPage(reply, resetPage(pageContext(request, reply), { errors: formErrors(err, minLength), passwordHint }), err.status, NO_REFERRER);
    }
    reply.header("Referrer-Policy", "no-referrer");
    return seeOther(reply, `${request.basePath}/login?notice=password_reset`);
  });

  app.get("/verify-email", { config: { access: "public" } }, async (request, reply) => sendPage(reply, verifyPage(pageContext(request, reply), {}), 200, NO_REFERRER));

  app.post<{ Body: FormBody }>("/verify-email", { config: { access: "public" } }, async (request, reply) => {
    const token = formValue(request.body, "token", 256);
    const current = request.auth?.via === "session" ? { session: request.auth.session, user: request.auth.user } : null;
    let rotated;
    try {
      rotated = await emailVerification.verify(token, originOf(request), current);
    } catch (err) {
      if (!shown(err)) throw err;
      const errors: FormErrors = err.code === "email_taken" ? { form: "This address now belongs to another account." } : formErrors(err, minLength);
      return sendPage(reply, verifyPage(pageContext(request, reply), { errors }), err.status, NO_REFERRER);
    }
    reply.header("Referrer-Policy", "no-referrer");
    if (rotated) {
      setSessionCookie(reply, config, rotated);
      return seeOther(reply, `${request.basePath}/account?notice=email_verified`);
    }
    return seeOther(reply, `${request.basePath}/login?notice=email_verified`);
  });

  app.get("/resend-verification", { config: { access: "public" } }, async (request, reply) => sendPage(reply, resendPage(pageContext(request, reply), {})));

  app.post<{ Body: FormBody }>("/resend-verification", { config: { access: "public", rateLimit: "forgotPassword" } }, async (request, reply) => {
    const email = formValue(request.body, "email", 1024);
    try {
      emailVerification.resend(email, originOf(request));
    } catch (err) {
      if (!shown(err)) throw err;
      return sendPage(reply, resendPage(pageContext(request, reply), { email, errors: formErrors(err, minLength) }), err.status);
    }
    return sendPage(reply, checkMailPage(pageContext(request, reply), "verify"), 202);
  });

  function signedIn(request: FastifyRequest) {
    if (request.auth?.via !== "session") throw new GatehouseError("unauthenticated");
    return request.auth;
  }
  const needsReauth = (session: Session): boolean => !accounts.isRecentlyAuthenticated(session);
  function renderChange(request: FastifyRequest, reply: FastifyReply, o: { email?: string; errors?: FormErrors } = {}, status = 200) {
    const { user, session } = signedIn(request);
    return sendPage(reply, changeEmailPage(pageContext(request, reply), { current: user.email, needsPassword: needsReauth(session), ...o }), status);
  }

  app.get("/account/email", { config: { access: "user", rateLimit: "api" } }, async (request, reply) => renderChange(request, reply));

  app.post<{ Body: FormBody }>("/account/email", { config: { access: "user", rateLimit: "api" } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    const email = formValue(request.body, "email", 1024);
    const password = formValue(request.body, "password", 65_536);
    try {
      let fresh = session;
      if (needsReauth(session)) {
        if (password === "") throw new GatehouseError("reauth_required", { fields: ["password"] });
        const issued = await accounts.reauthenticate(user, session, password, originOf(request));
        setSessionCookie(reply, config, issued);
        // The cookie changed: a page rendered below must carry the new session's CSRF token.
        request.server.webCsrf.useRotatedSession(request, issued.token);
        request.auth = { user, session: issued.session, via: "session" };
        fresh = issued.session;
      }
      await emailChange.request(user, fresh, email, originOf(request));
    } catch (err) {
      if (!shown(err)) throw err;
      return renderChange(request, reply, { email, errors: formErrors(err, minLength) }, err.status);
    }
    return seeOther(reply, `${request.basePath}/account?notice=email_change_sent`);
  });
}
