import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { User } from "../../../core/users/user.js";
import type { Session } from "../../../core/sessions/session.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent } from "../../schemas.js";
import type { AppDeps } from "../../types.js";

/** A code as typed: bounded and digits only (the schema answers 400 before any check). */
const codeBody = {
  type: "object",
  additionalProperties: false,
  required: ["code"],
  properties: { code: { type: "string", minLength: 6, maxLength: 6, pattern: "^[0-9]{6}$" } },
} as const;

const enrolmentResponse = {
  type: "object",
  additionalProperties: false,
  required: ["secret", "otpauthUrl", "qrSvg"],
  properties: { secret: { type: "string" }, otpauthUrl: { type: "string" }, qrSvg: { type: "string" } },
} as const;

function signedIn(request: FastifyRequest): { user: User; session: Session } {
  // Second factors are managed from a session only: an API token never enrols or removes one.
  if (request.auth?.via !== "session") throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/account/mfa/totp`: the signed-in user's authenticator app. Enrolling
 * while another second factor exists, and removing, need a recent
 * re-authentication (403 `reauth_required`).
 */
export async function totpRoutes(app: FastifyInstance, deps: Pick<AppDeps, "totp" | "accounts" | "secondFactors">): Promise<void> {
  const { totp, accounts, secondFactors } = deps;

  app.post(
    "/mfa/totp",
    { config: { access: "user", token: false }, schema: { body: emptyBody, response: { 200: enrolmentResponse } } },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      if ((await secondFactors.methodsOf(user.id)).length > 0) accounts.requireRecentAuth(session);
      const enrolment = await totp.enrol(user);
      // The one answer that shows the secret: never cached.
      reply.header("Cache-Control", "no-store");
      return enrolment;
    },
  );

  app.post<{ Body: { code: string } }>(
    "/mfa/totp/confirm",
    {
      config: { access: "user", token: false },
      schema: { body: codeBody, response: { 200: { type: "object", additionalProperties: false, required: ["enabled"], properties: { enabled: { type: "boolean" } } } } },
    },
    async (request) => {
      const { user } = signedIn(request);
      await totp.confirm(user, request.body.code, originOf(request));
      return { enabled: true };
    },
  );

  app.delete("/mfa/totp", { config: { access: "user", token: false }, schema: { body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    accounts.requireRecentAuth(session);
    if (!(await totp.disable(user, originOf(request)))) throw new GatehouseError("not_found");
    return reply.code(204).send();
  });
}
