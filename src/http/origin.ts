import type { FastifyRequest } from "fastify";
import type { SessionOrigin } from "../core/sessions/session-service.js";

/** The client IP (from Fastify's trusted-proxy handling, never parsed by hand) and User-Agent. */
export function originOf(request: FastifyRequest): SessionOrigin {
  const ua = request.headers["user-agent"];
  return { ip: request.ip, userAgent: typeof ua === "string" ? ua.slice(0, 512) : "", requestId: request.id };
}

/** The first value of a request header that may repeat (Node gives an array then). */
export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
