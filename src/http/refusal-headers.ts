import type { FastifyReply } from "fastify";
import type { GatehouseError } from "../core/errors.js";

/** The headers every refusal carries whatever its body (JSON or a page): `Retry-After`, and `Connection: close` when shedding load. */
export function setRefusalHeaders(reply: FastifyReply, err: GatehouseError): void {
  if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
  // Shedding load (AUTH-12): the client's keep-alive connection is closed too, so a flood pays a new
  // connection per attempt instead of queueing the next one at once (Envoy's overload "disable keepalive").
  if (err.code === "overloaded") reply.header("Connection", "close");
}
