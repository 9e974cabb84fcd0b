import type { FastifyInstance } from "fastify";
import { hashToken, isWellFormedToken } from "../../../core/crypto/tokens.js";
import { GatehouseError, isGatehouseError } from "../../../core/errors.js";
import type { Passkeys } from "../../../core/mfa/webauthn/passkeys.js";
import { toPublicUser } from "../../../core/users/user.js";
import type { Config } from "../../../config/config.js";
import { completeSignIn } from "../../complete-sign-in.js";
import { originOf } from "../../origin.js";
import { clearPendingCookie, readPendingToken } from "../../plugins/pending-cookie.js";
import { clearWebauthnCookie, readWebauthnToken, setWebauthnCookie } from "../../plugins/webauthn-cookie.js";
import { freeObject, userResponse } from "../../schemas.js";

/** A WebAuthn response as the browser library hands it over: an object, checked field by field by the core. */
export const webauthnResponseField = { type: "object", maxProperties: 16 } as const;

const optionsBody = {
  type: ["object", "null"],
  additionalProperties: false,
  // `passwordless` ignores a pending sign-in cookie; by default one present asks for second-factor options;
  // `second_factor` without one, from a signed-in session, asks for step-up options.
  properties: { mode: { type: "string", enum: ["passwordless", "second_factor"] } },
} as const;

/** `{options}`: the WebAuthn options the browser passes to `navigator.credentials` (shaped by the WebAuthn library). */
export const webauthnOptionsResponse = {
  type: "object",
  additionalProperties: false,
  required: ["options"],
  properties: { options: freeObject("PublicKeyCredentialRequestOptionsJSON or PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3).") },
} as const;

const verifyBody = { type: "object", additionalProperties: false, required: ["response"], properties: { response: webauthnResponseField } } as const;

/** `/api/auth/webauthn`: passkey sign-in options (passwordless or a second factor) and the passwordless sign-in. */
export async function webauthnRoutes(app: FastifyInstance, deps: { passkeys: Passkeys; config: Config }): Promise<void> {
  const { passkeys, config } = deps;

  app.post<{ Body: { mode?: "passwordless" | "second_factor" } | null }>(
    "/options",
    { config: { access: "public", rateLimit: "login" }, schema: { body: optionsBody, response: { 200: webauthnOptionsResponse } } },
    async (request, reply) => {
      const mode = request.body?.mode;
      const pending = mode === "passwordless" ? null : readPendingToken(request, config);
      if (mode === "second_factor" || pending !== null) {
        // No sign-in waiting, but a signed-in session: a step-up, its challenge bound to that session.
        if (pending === null && request.auth?.via === "session") {
          reply.header("Cache-Control", "no-store");
          return { options: await passkeys.stepUpOptions(request.auth.user, request.auth.session) };
        }
        try {
          if (pending === null || !isWellFormedToken(pending)) throw new GatehouseError("sign_in_expired");
          const options = await passkeys.secondFactorOptions(hashToken(pending), originOf(request));
          reply.header("Cache-Control", "no-store");
          return { options };
        } catch (err) {
          if (isGatehouseError(err) && err.code === "sign_in_expired" && pending !== null) clearPendingCookie(reply, config);
          throw err;
        }
      }
      // The same options for everyone, with no username asked: they reveal no account (MFA-09).
      const issued = await passkeys.passwordlessOptions();
      setWebauthnCookie(reply, config, issued.token, issued.expiresAt - issued.createdAt);
      return { options: issued.options };
    },
  );

  app.post<{ Body: { response: Record<string, unknown> } }>(
    "/verify",
    { config: { access: "public", rateLimit: "login" }, schema: { body: verifyBody, response: { 200: userResponse } } },
    async (request, reply) => {
      const token = readWebauthnToken(request, config);
      // The challenge cookie serves one attempt, right or wrong.
      if (token !== null) clearWebauthnCookie(reply, config);
      const { user } = await completeSignIn(request, reply, config, (replacing) => passkeys.passwordlessSignIn(token, request.body.response, originOf(request), replacing));
      return { user: toPublicUser(user) };
    },
  );
}
