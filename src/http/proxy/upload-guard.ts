import { Readable } from "node:stream";
import type { FastifyBaseLogger, FastifyRequest } from "fastify";
import type { AuditLog } from "../../core/audit/audit-log.js";
import { GatehouseError } from "../../core/errors.js";
import type { FileScanner } from "../../core/uploads/file-scanner.js";
import type { UploadRule } from "../../core/uploads/upload-rule.js";
import type { Config } from "../../config/config.js";
import { createClamdScanner, parseClamdUrl } from "../../uploads/clamd-scanner.js";
import { guardRequestBody } from "../../uploads/guard-request-body.js";

/** The reverse proxy's upload guard: checks a body on an `uploads` rule, audits a refusal. */
export interface ProxyUploadGuard {
  /**
   * Reads and checks the whole body against the rule; returns the body to
   * forward with its new Content-Type and length, or throws the refusal's
   * {@link GatehouseError} (413, 415, 422, 503) after recording `upload_refused`.
   */
  check(request: FastifyRequest, body: Readable, uploads: { rule: UploadRule; origin: string }, userId: string | null): Promise<{ body: Readable; contentType: string; length: number }>;
  /** True when the request's body went through {@link ProxyUploadGuard.check} (its refusals close the connection). */
  checked(request: FastifyRequest): boolean;
}

export function createUploadGuard(deps: { config: Config; audit: AuditLog; log: FastifyBaseLogger }): ProxyUploadGuard {
  const { clamdUrl, clamdTimeoutMs } = deps.config.uploads;
  const scanner: FileScanner | null = clamdUrl === null ? null : createClamdScanner(parseClamdUrl(clamdUrl), clamdTimeoutMs);
  const seen = new WeakSet<FastifyRequest>();
  return {
    checked: (request) => seen.has(request),
    async check(request, body, uploads, userId) {
      seen.add(request);
      const result = await guardRequestBody(body, request.headers["content-type"], uploads.rule, scanner, (err) =>
        request.log.warn({ err, rule: uploads.origin }, `reverse proxy: the virus scanner could not answer (${err.message}); on_scan_error: ${uploads.rule.onScanError}`),
      );
      if (!result.ok) {
        const { refusal } = result;
        const ua = request.headers["user-agent"];
        // What was refused and why; never the file's bytes or the client's raw file name.
        deps.audit
          .record({
            type: "upload_refused",
            userId,
            ip: request.ip,
            userAgent: typeof ua === "string" ? ua.slice(0, 512) : "",
            requestId: request.id,
            details: { reason: refusal.reason, type: refusal.type, size: refusal.size, rule: uploads.origin, ...(refusal.signature === undefined ? {} : { signature: refusal.signature }) },
          })
          .catch((err: unknown) => request.log.error({ err }, "recording a refused upload failed"));
        request.log.info({ reason: refusal.reason, type: refusal.type, size: refusal.size, rule: uploads.origin }, "reverse proxy: upload refused");
        if (refusal.reason === "scan_failed") throw new GatehouseError(refusal.code, { retryAfter: 30 });
        throw new GatehouseError(refusal.code);
      }
      if (result.unscanned > 0) request.log.warn({ files: result.unscanned, rule: uploads.origin }, "reverse proxy: the virus scanner is unavailable; upload forwarded unscanned (on_scan_error: allow)");
      return { body: Readable.from(result.chunks, { objectMode: false }), contentType: result.contentType, length: result.length };
    },
  };
}
