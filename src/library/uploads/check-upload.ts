import type { Readable } from "node:stream";
import { errorCodes, type ErrorCode } from "../../core/errors.js";
import type { FileScanner } from "../../core/uploads/file-scanner.js";
import type { UploadRefusalReason } from "../../core/uploads/upload-refusal.js";
import { uploadRefusal } from "../../core/uploads/upload-refusal.js";
import { UPLOAD_RULE_DEFAULTS, type UploadRule } from "../../core/uploads/upload-rule.js";
import { checkFile } from "../../uploads/check-file.js";
import { createClamdScanner, parseClamdUrl } from "../../uploads/clamd-scanner.js";
import { readLimited } from "../../uploads/read-limited.js";

/** The options of {@link checkUpload}: the rules file's `uploads` section, in camelCase; only `maxSize` is required. */
export type UploadCheckRule = Pick<UploadRule, "maxSize"> & Partial<Omit<UploadRule, "maxSize">>;

export interface CheckUploadOptions {
  /** The client's file name, to sanitize (the result's `filename`); never used to decide the type. */
  filename?: string;
  /** The scanner for `scan: "clamav"`: a {@link FileScanner}, or clamd's address (`tcp://host:port`, `unix:/path`). */
  scanner?: FileScanner | { clamdUrl: string; timeoutMs?: number };
}

/** An accepted file: the bytes to store (cleaned with `stripMetadata`), the type its bytes show, and a safe name. */
export interface UploadAccepted {
  ok: true;
  bytes: Buffer;
  type: string;
  /** The sanitized name, or null when no `filename` was given. */
  filename: string | null;
  /** True when the scanner could not answer and `onScanError: "allow"` let the file through. */
  unscanned: boolean;
}

/** A refused file: the HTTP status and `{error, code}` to answer with, and why (for logs and audits). */
export interface UploadRefused {
  ok: false;
  /** 413, 415, 422 or 503. */
  status: number;
  code: ErrorCode;
  /** The public message of `code`. */
  error: string;
  reason: UploadRefusalReason;
  type: string;
  size: number;
  signature?: string;
}

/**
 * The reverse proxy's upload checks for an in-process app (library mode):
 * one file, as a stream or bytes, against a rule. The stream is read up to
 * `maxSize` bytes and no further (one byte more is 413 `upload_too_large`);
 * the type comes from the bytes (415 `upload_type_refused` when not allowed,
 * or unknown without `allowUnknown`); a script hidden in an image, an image
 * over `maxPixels` or one that does not decode, and an infected file are 422
 * `upload_rejected`; a scanner that cannot answer is 503 `upload_scan_failed`
 * unless `onScanError: "allow"`. Never throws for bad input.
 *
 * @example
 * const result = await checkUpload(request.raw, { maxSize: 5_000_000, allowedTypes: ["image/png", "image/jpeg"], stripMetadata: true }, { filename });
 * if (!result.ok) return reply.code(result.status).send({ error: result.error, code: result.code });
 */
export async function checkUpload(input: Readable | Uint8Array, rule: UploadCheckRule, options: CheckUploadOptions = {}): Promise<UploadAccepted | UploadRefused> {
  const full: UploadRule = { ...UPLOAD_RULE_DEFAULTS, ...rule };
  if (!Number.isSafeInteger(full.maxSize) || full.maxSize < 1) throw new TypeError("checkUpload: maxSize must be a positive whole number of bytes");
  let bytes: Buffer;
  if (input instanceof Uint8Array) {
    if (input.byteLength > full.maxSize) return refused(uploadRefusal("too_large", "unknown", input.byteLength));
    bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  } else {
    const read = await readLimited(input, full.maxSize);
    if (read.tooLarge) {
      input.destroy();
      return refused(uploadRefusal("too_large", "unknown", read.seen));
    }
    bytes = read.bytes;
  }
  const given = options.scanner;
  const scanner = given === undefined ? null : "scan" in given ? given : createClamdScanner(parseClamdUrl(given.clamdUrl), given.timeoutMs ?? 30_000);
  const checked = await checkFile(bytes, options.filename ?? null, full, { scanner });
  if (!checked.ok) return refused(checked.refusal);
  return { ok: true, bytes: checked.bytes, type: checked.type, filename: checked.filename, unscanned: checked.unscanned };
}

function refused(refusal: ReturnType<typeof uploadRefusal>): UploadRefused {
  const { status, message } = errorCodes[refusal.code];
  return { ok: false, status, code: refusal.code, error: message, reason: refusal.reason, type: refusal.type, size: refusal.size, ...(refusal.signature === undefined ? {} : { signature: refusal.signature }) };
}
