import type { FastifyInstance, preValidationHookHandler } from "fastify";
import { deriveKey } from "../../../core/crypto/derive-key.js";
import { parseForm, type FormBody } from "../../../web/form.js";
import { changesState } from "../../pipeline/route-needs.js";
import { asArray } from "../../pipeline/use-pipeline.js";
import type { AppDeps } from "../../types.js";
import { accountMfaPages } from "./account-mfa-page.js";
import { accountPages } from "./account-pages.js";
import { adminPages } from "./admin/admin-pages.js";
import { apiDocsPages } from "./api-docs-pages.js";
import { assetRoutes } from "./asset-routes.js";
import { invitePages } from "./invite-pages.js";
import { loginPages } from "./login-pages.js";
import { oauthPages } from "./oauth-pages.js";
import { secondFactorPages } from "./second-factor-pages.js";
import { totpPages } from "./totp-pages.js";
import { mailPages } from "./mail/mail-pages.js";
import { registerPages } from "./register-pages.js";
import { setupPages } from "./setup-pages.js";
import { createWebCsrf } from "./web-csrf.js";
import { webErrorHandler } from "./web-errors.js";

/**
 * Page modules of the portal and the dashboard. Each is a Fastify plugin
 * `(app, deps: AppDeps)` registered inside the web context below, so it gets
 * the form parser, the CSRF check, HTML errors and the sign-in redirect.
 * Add yours here (one line; see src/web/README.md).
 */
const PAGE_MODULES: ((app: FastifyInstance, deps: AppDeps) => Promise<void>)[] = [loginPages, secondFactorPages, registerPages, accountPages, accountMfaPages, totpPages, setupPages, adminPages, mailPages, invitePages, oauthPages, apiDocsPages];

/**
 * The server-rendered web pages: one encapsulated context where bodies are
 * `application/x-www-form-urlencoded` only (JSON and everything else → 415),
 * every POST carries a valid `_csrf` field (CSRF-03, on top of the global
 * cross-site check), errors render as HTML and anonymous visitors of signed-in
 * pages are sent to `/login?return=…` (303).
 */
export async function webRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(assetRoutes);
  await app.register(async (web) => {
    web.decorate("webCsrf", createWebCsrf(deps.config, deriveKey(deps.config.secretKey, "csrf")));
    web.decorate("portalUrl", deps.config.publicUrl);
    web.setErrorHandler(webErrorHandler);
    web.removeAllContentTypeParsers();
    web.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    // Every form POST carries the page's CSRF field: checked once the form is parsed, on the routes that take forms only.
    const checkFormToken: preValidationHookHandler = function checkFormToken(request, _reply, done) {
      try {
        web.webCsrf.check(request, request.body as FormBody | undefined);
      } catch (err) {
        return done(err as Error);
      }
      done();
    };
    web.addHook("onRoute", (route) => {
      if (!changesState(route.method)) return;
      const own = asArray(route.preValidation);
      if (!own.includes(checkFormToken)) route.preValidation = [checkFormToken, ...own];
    });
    // Pages link to /register only while anyone may create an account (the mode is cached by the settings service).
    web.addHook("preHandler", async function noteRegistrationMode(request) {
      if (!request.auth) request.registrationOpen = (await deps.registration.mode()) === "open";
    });
    for (const pages of PAGE_MODULES) await web.register(pages, deps);
  });
}
