import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type busboy from "busboy";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../../core/errors.js";
import { MAX_FORM_FIELDS, type FormBody } from "../../../../web/form.js";

const require = createRequire(import.meta.url);

const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const uploads = new WeakMap<FastifyRequest, Buffer>();

/** The file of a multipart upload parsed by {@link acceptSingleFileUpload}, or null. */
export function uploadedFile(request: FastifyRequest): Buffer | null {
  return uploads.get(request) ?? null;
}

/**
 * Lets the routes of `app` accept `multipart/form-data` with at most one file
 * (field `fileField`, at most `maxBytes`) and a few small text fields, which
 * become the usual {@link FormBody} (so the page CSRF check reads `_csrf` from
 * it). The size is enforced while streaming (413 at once, nothing more is
 * buffered); the client's file name and Content-Type are ignored.
 */
export function acceptSingleFileUpload(app: FastifyInstance, fileField: string, maxBytes: number): void {
  app.addContentTypeParser("multipart/form-data", (request: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: FormBody) => void) => {
    const declared = Number(request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
      payload.resume();
      return done(new GatehouseError("payload_too_large"));
    }
    let finished = false;
    const finish = (err: Error | null, body?: FormBody) => {
      if (finished) return;
      finished = true;
      if (err) {
        payload.unpipe();
        payload.resume();
      }
      done(err, body);
    };
    let bb: busboy.Busboy;
    try {
      // Loaded with the first upload (a backup restore), not at start (docs/performance.md).
      bb = (require("busboy") as typeof busboy)({ headers: request.headers, limits: { files: 1, fileSize: maxBytes, fields: MAX_FORM_FIELDS, fieldSize: 8 * 1024, parts: MAX_FORM_FIELDS + 1 } });
    } catch {
      payload.resume();
      return done(new GatehouseError("invalid_request"));
    }
    const fields: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
    bb.on("field", (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated || FORBIDDEN_KEYS.has(name)) return finish(new GatehouseError("invalid_request"));
      (fields[name] ??= []).push(value);
    });
    bb.on("file", (name, stream) => {
      if (name !== fileField) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => {
        if (!finished) chunks.push(chunk);
      });
      stream.on("limit", () => {
        chunks.length = 0;
        finish(new GatehouseError("payload_too_large"));
      });
      stream.on("end", () => {
        if (!finished) uploads.set(request, Buffer.concat(chunks));
      });
    });
    for (const limit of ["partsLimit", "filesLimit", "fieldsLimit"] as const) bb.on(limit, () => finish(new GatehouseError("invalid_request")));
    bb.on("error", () => finish(new GatehouseError("invalid_request")));
    bb.on("close", () => finish(null, fields));
    payload.on("error", () => finish(new GatehouseError("invalid_request")));
    payload.pipe(bb);
  });
}
