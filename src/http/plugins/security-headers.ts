import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import helmet, { type HelmetOptions } from "helmet";

/** The helmet configuration of Gatehouse (HDR-01 to HDR-05). */
export function helmetOptions(secure: boolean): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    strictTransportSecurity: secure ? { maxAge: 63_072_000, includeSubDomains: true, preload: false } : false,
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "strict-origin-when-cross-origin" },
    crossOriginOpenerPolicy: { policy: "same-origin" },
    crossOriginResourcePolicy: { policy: "same-origin" },
    crossOriginEmbedderPolicy: false,
    xDnsPrefetchControl: { allow: false },
    xPermittedCrossDomainPolicies: { permittedPolicies: "none" },
  };
}

/**
 * Runs helmet once against a recording response and returns the headers it
 * sets. The set is static (no per-response nonce on JSON routes), so
 * computing it once saves rebuilding helmet on every request, which is what
 * `@fastify/helmet` does (see docs/adr/0004-helmet-headers-computed-once.md).
 */
export function computeSecurityHeaders(secure: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  let error: unknown = null;
  helmet(helmetOptions(secure))({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    error = err ?? null;
  });
  if (error !== null) throw error;
  headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()";
  return headers;
}

/** Browser hardening headers on every response, errors and 404s included. */
export const securityHeadersPlugin = fp(
  async (app: FastifyInstance, opts: { secure: boolean }) => {
    const headers = computeSecurityHeaders(opts.secure);
    const names = Object.keys(headers);
    app.addHook("onRequest", (_request, reply, done) => {
      for (const name of names) reply.header(name, headers[name]);
      done();
    });
  },
  { name: "security-headers" },
);
