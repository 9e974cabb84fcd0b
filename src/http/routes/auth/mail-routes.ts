import type { FastifyInstance } from "fastify";
import type { EmailVerification } from "../../../core/users/email-verification.js";
import type { PasswordReset } from "../../../core/users/password-reset.js";
import { originOf } from "../../origin.js";
import { setSessionCookie } from "../../plugins/session-cookie.js";
import { noContent, passwordField, statusResponse, str } from "../../schemas.js";
import type { AppDeps } from "../../types.js";

const emailBody = {
  type: "object",
  additionalProperties: false,
  required: ["email"],
  properties: { email: str(1024) },
} as const;

const tokenField = str(256);

/** What the mail routes need besides the usual dependencies. */
export interface MailRouteDeps extends AppDeps {
  passwordReset: PasswordReset;
  emailVerification: EmailVerification;
}

/**
 * `/api/auth`: forgot-password, reset-password, verify-email and
 * resend-verification. Every mail-sending answer is the same whatever the
 * address: the work happens after the answer (RST-01, RL-05).
 */
export async function mailRoutes(app: FastifyInstance, deps: MailRouteDeps): Promise<void> {
  const { passwordReset, emailVerification, config } = deps;

  app.post<{ Body: { email: string } }>(
    "/forgot-password",
    { config: { access: "public", rateLimit: "forgotPassword" }, schema: { body: emailBody, response: { 202: statusResponse("sent_if_registered") } } },
    async (request, reply) => {
      passwordReset.request(request.body.email, originOf(request));
      return reply.code(202).send({ status: "sent_if_registered" });
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    "/reset-password",
    {
      config: { access: "public", hashing: true },
      schema: {
        body: { type: "object", additionalProperties: false, required: ["token", "password"], properties: { token: tokenField, password: passwordField } },
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      await passwordReset.reset(request.body.token, request.body.password, originOf(request));
      reply.header("Referrer-Policy", "no-referrer");
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { token: string } }>(
    "/verify-email",
    { config: { access: "public" }, schema: { body: { type: "object", additionalProperties: false, required: ["token"], properties: { token: tokenField } }, response: { 204: noContent } } },
    async (request, reply) => {
      const auth = request.auth?.via === "session" ? { session: request.auth.session, user: request.auth.user } : null;
      const rotated = await emailVerification.verify(request.body.token, originOf(request), auth);
      if (rotated) setSessionCookie(reply, config, rotated);
      reply.header("Referrer-Policy", "no-referrer");
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { email: string } }>(
    "/resend-verification",
    { config: { access: "public", rateLimit: "forgotPassword" }, schema: { body: emailBody, response: { 202: statusResponse("sent_if_registered") } } },
    async (request, reply) => {
      emailVerification.resend(request.body.email, originOf(request));
      return reply.code(202).send({ status: "sent_if_registered" });
    },
  );
}
