import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { RecoveryCodes } from "../../../core/mfa/recovery-codes/recovery-codes.js";
import { originOf } from "../../origin.js";
import { emptyBody } from "../../schemas.js";
import type { RequestAuth } from "../../types.js";

function signedIn(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/account/mfa/recovery-codes`: how many recovery codes are left (never
 * the codes), and making new ones (shown in this one answer; every old code
 * stops working). Session only; making codes needs a recent re-authentication
 * and a primary second factor.
 */
export async function recoveryCodeRoutes(app: FastifyInstance, deps: { recoveryCodes: RecoveryCodes }): Promise<void> {
  const { recoveryCodes } = deps;

  app.get(
    "/mfa/recovery-codes",
    {
      config: { access: "user", token: false },
      schema: { response: { 200: { type: "object", additionalProperties: false, required: ["remaining"], properties: { remaining: { type: "integer" } } } } },
    },
    async (request) => ({ remaining: await recoveryCodes.remaining(signedIn(request).user.id) }),
  );

  app.post(
    "/mfa/recovery-codes",
    {
      config: { access: "user", token: false },
      schema: {
        body: emptyBody,
        response: {
          200: { type: "object", additionalProperties: false, required: ["codes"], properties: { codes: { type: "array", items: { type: "string" } } } },
        },
      },
    },
    async (request) => {
      const { user, session } = signedIn(request);
      return { codes: await recoveryCodes.regenerate(user, session, originOf(request)) };
    },
  );
}
