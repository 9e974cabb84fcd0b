import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import type { Session } from "../../../core/sessions/session.js";
import type { IssuedSession } from "../../../core/sessions/session-service.js";
import { effectiveScopes, TOKEN_SCOPES } from "../../../core/tokens/api-token.js";
import type { User } from "../../../core/users/user.js";
import type { FormErrors } from "../../../web/components.js";
import { formValue, formValues, type FormBody } from "../../../web/form.js";
import { accountPage, recoveryCodesPage, type AccountView } from "../../../web/pages/account-page.js";
import { originOf } from "../../origin.js";
import { clearSessionCookie, setSessionCookie } from "../../plugins/session-cookie.js";
import type { AppDeps } from "../../types.js";
import { pageContext, seeOther, sendPage, type PageOptions } from "./page.js";
import { errorsFor, passwordPolicyHint } from "./register-pages.js";
import { idParams } from "../../schemas.js";
import { enabledProviders } from "./login-pages.js";
import { providerParams, startProviderRoundTrip } from "./oauth-pages.js";

const signedIn = { access: "user", rateLimit: "api" } as const;

function auth(request: FastifyRequest): { user: User; session: Session } {
  if (request.auth?.via !== "session") throw new GatehouseError("unauthenticated");
  return request.auth;
}

/** `/account` and its forms: password change, session revocation, API tokens. */
export async function accountPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { accounts, sessions, tokens, config, clock, totp, recoveryCodes } = deps;

  // The "change" link next to the email appears once the email pages provide `/account/email`.
  let changeEmail: boolean | null = null;
  const hasChangeEmailPage = () => (changeEmail ??= app.hasRoute({ method: "GET", url: "/account/email" }));

  const needsReauth = (session: Session): boolean => !accounts.isRecentlyAuthenticated(session);

  /** Re-authenticates with `password` when the sudo window has passed; returns the (possibly rotated) session. */
  async function recent(request: FastifyRequest, reply: FastifyReply, user: User, session: Session, password: string): Promise<Session> {
    if (!needsReauth(session)) return session;
    if (password === "") throw new GatehouseError("reauth_required", { fields: ["password"] });
    const issued: IssuedSession = await accounts.reauthenticate(user, session, password, originOf(request));
    setSessionCookie(reply, config, issued);
    // The cookie changed: a page rendered below must carry the new session's CSRF token.
    request.server.webCsrf.useRotatedSession(request, issued.token);
    request.auth = { user, session: issued.session, via: "session" };
    return issued.session;
  }

  /** The "Linked accounts" section: shown when a provider is enabled or an identity is linked. */
  async function identitiesOf(user: User): Promise<Pick<AccountView, "identities">> {
    const providers = enabledProviders(deps);
    const identities = await deps.linkedIdentities.list(user.id);
    if (providers.length === 0 && identities.length === 0) return {};
    return { identities: { identities, providers, hasPassword: user.passwordHash !== null } };
  }

  /** The message of a refused link or unlink, on the section's form. */
  function identityErrors(err: GatehouseError, user: User): FormErrors {
    if (err.code === "reauth_required") {
      return { form: user.passwordHash !== null ? "Confirm your password to continue (you signed in more than 10 minutes ago)." : "Sign in again with your identity provider to confirm, then try again." };
    }
    if (err.code === "invalid_password") return { form: "The password is incorrect." };
    return { form: `${err.message}.` };
  }

  /** "Your keys": shown when the rules use a key of the users' own, or the user still has one stored. */
  async function keysOf(user: User): Promise<Pick<AccountView, "keys">> {
    if (!deps.vault) return {};
    const keys = await deps.vault.listOwn(user.id);
    return keys.length === 0 ? {} : { keys };
  }

  async function render(request: FastifyRequest, reply: FastifyReply, extra: Partial<AccountView> = {}, status = 200, options: PageOptions = {}) {
    const { user, session } = auth(request);
    const view: AccountView = {
      user,
      currentSessionId: session.id,
      sessions: await sessions.list(user.id, 50, 0),
      tokens: await tokens.list(user, 50, 0),
      ...(deps.passkeys ? { passkeys: await deps.passkeys.list(user.id) } : {}),
      scopes: effectiveScopes({ scopes: [...TOKEN_SCOPES] }, user.role),
      needsReauth: needsReauth(session),
      passwordHint: passwordPolicyHint(config.passwordMinLength),
      changeEmail: hasChangeEmailPage(),
      totpEnabled: await totp.isEnrolled(user.id),
      now: clock.now(),
      ...(recoveryCodes ? { recoveryCodes: { remaining: await recoveryCodes.remaining(user.id), canMake: await recoveryCodes.canRegenerate(user.id) } } : {}),
      ...(await identitiesOf(user)),
      ...(await keysOf(user)),
      ...extra,
    };
    return sendPage(reply, accountPage(pageContext(request, reply), view), status, options);
  }

  app.get("/account", { config: signedIn }, async (request, reply) => render(request, reply));

  app.post<{ Body: FormBody }>("/account/password", { config: { ...signedIn, hashing: true } }, async (request, reply) => {
    const { user, session } = auth(request);
    const currentPassword = formValue(request.body, "currentPassword", 65_536);
    const newPassword = formValue(request.body, "newPassword", 65_536);
    try {
      if (currentPassword === "") throw new GatehouseError("invalid_password", { fields: ["currentPassword"] });
      const fresh = await recent(request, reply, user, session, currentPassword);
      const issued = await accounts.changePassword(user, fresh, { currentPassword, newPassword }, originOf(request));
      setSessionCookie(reply, config, issued);
      return seeOther(reply, `${request.basePath}/account?notice=password_changed`);
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
      const fields = (err.fields ?? []).map((f) => (f === "password" ? (err.code.startsWith("password_") ? "newPassword" : "currentPassword") : f));
      const errors = errorsFor(new GatehouseError(err.code, { fields }), config.passwordMinLength);
      if (err.code === "invalid_password") errors.fields = { currentPassword: "The current password is incorrect." };
      return render(request, reply, { passwordErrors: errors }, err.status);
    }
  });

  app.post<{ Params: { id: string } }>(
    "/account/sessions/:id/revoke",
    { config: signedIn, schema: { params: idParams } },
    async (request, reply) => {
      const { user, session } = auth(request);
      if (!(await accounts.revokeSession(user, request.params.id, originOf(request)))) throw new GatehouseError("not_found");
      if (request.params.id === session.id) {
        clearSessionCookie(reply, config);
        return seeOther(reply, `${request.basePath}/login`);
      }
      return seeOther(reply, `${request.basePath}/account?notice=session_revoked`);
    },
  );

  app.post("/account/sessions/revoke-others", { config: signedIn }, async (request, reply) => {
    const { user, session } = auth(request);
    await accounts.revokeOtherSessions(user, session.id, originOf(request));
    return seeOther(reply, `${request.basePath}/account?notice=sessions_revoked`);
  });

  app.post<{ Body: FormBody }>("/account/tokens", { config: { ...signedIn, rateLimit: "tokenCreate" } }, async (request, reply) => {
    const { user, session } = auth(request);
    const name = formValue(request.body, "name", 256);
    const scopes = formValues(request.body, "scopes");
    const days = formValue(request.body, "expiresInDays", 16);
    const password = formValue(request.body, "password", 65_536);
    try {
      if (!/^[0-9]{1,4}$/.test(days)) throw new GatehouseError("invalid_request", { fields: ["expiresInDays"] });
      const fresh = await recent(request, reply, user, session, password);
      const created = await tokens.create(user, fresh, { name, scopes: scopes, expiresInDays: Number(days) }, originOf(request));
      return render(request, reply, { created }, 200, { noReferrer: true });
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
      const fields: Record<string, string> = {};
      for (const f of err.fields ?? []) {
        fields[f] =
          f === "name" ? "Enter a name of at most 100 characters."
          : f === "scopes" ? "Choose at least one scope."
          : f === "expiresInDays" ? "Enter a number of days from 1 to 365."
          : f === "password" ? (err.code === "reauth_required" ? "Confirm your password to create a token." : "The password is incorrect.")
          : `${err.message}.`;
      }
      const errors = Object.keys(fields).length > 0 ? { fields } : { form: `${err.message}.` };
      return render(request, reply, { tokenErrors: errors, tokenInput: { name, scopes, days } }, err.status);
    }
  });

  if (deps.vault) {
    const vault = deps.vault;
    // "Your keys" (docs/secrets.md): storing a key is a sudo action (a stolen session cannot swap in its own key).
    app.post<{ Body: FormBody }>("/account/keys", { config: signedIn }, async (request, reply) => {
      const { user, session } = auth(request);
      const name = formValue(request.body, "name", 64);
      const value = formValue(request.body, "value", 8193);
      const password = formValue(request.body, "password", 65_536);
      try {
        await recent(request, reply, user, session, password);
        await vault.setOwn(user.id, name, value, originOf(request));
        return seeOther(reply, `${request.basePath}/account?notice=key_saved#keys`);
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
        const fields: Record<string, string> = {};
        for (const f of err.fields ?? []) {
          fields[f] =
            f === "value" ? "Enter the key: at most 8192 visible characters, no line breaks."
            : f === "name" ? "Choose one of the keys listed."
            : f === "password" ? (err.code === "reauth_required" ? "Confirm your password to save a key." : "The password is incorrect.")
            : `${err.message}.`;
        }
        const errors = err.code === "invalid_password" ? { fields: { password: "The password is incorrect." } } : Object.keys(fields).length > 0 ? { fields } : { form: `${err.message}.` };
        return render(request, reply, { keyErrors: errors }, err.status);
      }
    });

    app.post<{ Params: { name: string } }>(
      "/account/keys/:name/delete",
      { config: signedIn, schema: { params: { type: "object", additionalProperties: false, required: ["name"], properties: { name: { type: "string", maxLength: 64 } } } } },
      async (request, reply) => {
        const { user } = auth(request);
        await vault.removeOwn(user.id, request.params.name, originOf(request));
        return seeOther(reply, `${request.basePath}/account?notice=key_deleted#keys`);
      },
    );
  }

  app.post<{ Body: FormBody }>("/account/delete", { config: { access: "user", rateLimit: "accountDelete", hashing: true } }, async (request, reply) => {
    const { user, session } = auth(request);
    const password = formValue(request.body, "password", 65_536);
    try {
      if (password === "") throw new GatehouseError("invalid_password", { fields: ["password"] });
      const fresh = await recent(request, reply, user, session, password);
      await accounts.deleteAccount(user, fresh, password, originOf(request));
      clearSessionCookie(reply, config);
      reply.header("Clear-Site-Data", '"cache", "cookies", "storage"');
      return seeOther(reply, `${request.basePath}/login?notice=account_deleted`);
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
      const errors = err.code === "invalid_password" ? { fields: { password: "The password is incorrect." } } : { form: `${err.message}.` };
      return render(request, reply, { deleteErrors: errors }, err.status);
    }
  });

  app.post<{ Body: FormBody }>("/account/mfa/totp/remove", { config: signedIn }, async (request, reply) => {
    const { user, session } = auth(request);
    const password = formValue(request.body, "password", 65_536);
    try {
      const fresh = await recent(request, reply, user, session, password);
      accounts.requireRecentAuth(fresh);
      await totp.disable(user, originOf(request));
      return seeOther(reply, `${request.basePath}/account?notice=totp_removed`);
    } catch (err) {
      if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
      const errors =
        err.code === "reauth_required" ? { fields: { password: "Confirm your password to remove the app." } }
        : err.code === "invalid_password" ? { fields: { password: "The password is incorrect." } }
        : { form: `${err.message}.` };
      return render(request, reply, { totpErrors: errors }, err.status);
    }
  });
  if (recoveryCodes) {
    // New recovery codes (MFA-05): a sudo action; the codes are shown once, on a page that is never cached.
    app.post<{ Body: FormBody }>("/account/recovery-codes", { config: signedIn }, async (request, reply) => {
      const { user, session } = auth(request);
      const password = formValue(request.body, "password", 65_536);
      try {
        const fresh = await recent(request, reply, user, session, password);
        const codes = await recoveryCodes.regenerate(user, fresh, originOf(request));
        return sendPage(reply, recoveryCodesPage(pageContext(request, reply), codes), 200, { noReferrer: true });
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated") throw err;
        const errors =
          err.code === "reauth_required" ? { fields: { password: "Confirm your password to make new codes." } }
          : err.code === "invalid_password" ? { fields: { password: "The password is incorrect." } }
          : { form: `${err.message}.` };
        return render(request, reply, { recoveryErrors: errors }, err.status);
      }
    });
  }

  // Linked provider accounts. Unlinking: a sudo action, never the last way to sign in (409 `last_sign_in_method`).
  app.post<{ Params: { id: string }; Body: FormBody }>(
    "/account/identities/:id/unlink",
    { config: signedIn, schema: { params: idParams } },
    async (request, reply) => {
      const { user, session } = auth(request);
      const password = formValue(request.body, "password", 65_536);
      try {
        const fresh = await recent(request, reply, user, session, password);
        await deps.linkedIdentities.unlink(user, fresh, request.params.id, originOf(request));
        return seeOther(reply, `${request.basePath}/account?notice=provider_unlinked`);
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated" || err.code === "not_found") throw err;
        return render(request, reply, { identityErrors: identityErrors(err, user) }, err.status);
      }
    },
  );

  // Linking: re-authenticate with the password when the sudo window has passed, then the same start as
  // `POST /api/auth/oauth/:provider/start` with `intent=link` (303 to the provider, transaction cookie set).
  app.post<{ Params: { provider: string }; Body: FormBody }>(
    "/account/identities/link/:provider",
    { config: signedIn, schema: { params: providerParams } },
    async (request, reply) => {
      const { user, session } = auth(request);
      const password = formValue(request.body, "password", 65_536);
      try {
        await recent(request, reply, user, session, password);
        return await startProviderRoundTrip(deps, request, reply, { provider: request.params.provider, intent: "link", returnTo: `${request.basePath}/account`, remember: false });
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500 || err.status === 429 || err.code === "unauthenticated" || err.code === "not_found") throw err;
        return render(request, reply, { identityErrors: identityErrors(err, user) }, err.status);
      }
    },
  );

  app.post<{ Params: { id: string } }>(
    "/account/tokens/:id/revoke",
    { config: signedIn, schema: { params: idParams } },
    async (request, reply) => {
      if (!(await tokens.revoke(auth(request).user, request.params.id, originOf(request)))) throw new GatehouseError("not_found");
      return seeOther(reply, `${request.basePath}/account?notice=token_revoked`);
    },
  );
}
