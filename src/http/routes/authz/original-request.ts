import type { FastifyRequest } from "fastify";
import type { AccessRequest } from "../../../core/gateway/access-decision.js";

/** Which headers carry the original request: Traefik/Caddy send `X-Forwarded-*`; nginx sends `X-Original-URL`/`X-Original-Method`. */
export type Flavour = "forward-auth" | "auth-request";

function one(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === "string" && value.length > 0 ? value : null;
}

const ABSOLUTE = /^(https?):\/\/([^/?#]*)(.*)$/i;

/**
 * The original request a trusted front proxy asks about, read from its
 * headers without normalizing anything (the gate canonicalizes and refuses
 * ambiguity itself). Null when a required header is missing (FWD-03: deny).
 * `X-Original-URL` is split by hand: `new URL()` would resolve dot-segments
 * and re-encode the path before the gate could refuse them.
 */
export function originalRequest(request: FastifyRequest, flavour: Flavour): AccessRequest | null {
  if (flavour === "auth-request") {
    const url = one(request, "x-original-url");
    if (url !== null) {
      const m = ABSOLUTE.exec(url);
      const method = one(request, "x-original-method") ?? one(request, "x-forwarded-method");
      if (m === null || method === null) return null;
      const [, proto = "", host = "", rest = ""] = m;
      return { method, proto: proto.toLowerCase(), host, uri: rest === "" ? "/" : rest, ip: request.ip };
    }
  }
  const method = one(request, "x-forwarded-method");
  const proto = one(request, "x-forwarded-proto");
  const host = one(request, "x-forwarded-host");
  const uri = one(request, "x-forwarded-uri");
  if (method === null || proto === null || host === null || uri === null) return null;
  return { method, proto: proto.toLowerCase(), host, uri, ip: request.ip };
}
