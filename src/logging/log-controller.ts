import { LogController, type FastifyReply, type FastifyRequest } from "fastify";

/**
 * Fastify's request logging minus its two lines per request ("incoming
 * request", "request completed"): `accessLogPlugin` (access-log.ts) writes one cheaper
 * line instead. Fastify's other request-time logs (a request that errored
 * while being sent, a failed serializer, a stream error, a 404) are kept.
 */
export class GatehouseLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }

  /** 404s get the access-log line like any other request. */
  override routeNotFound(): void {}
}
