import type { ErrorCode } from "../errors.js";

/** Why a file was refused: the `reason` of the `upload_refused` audit event. */
export type UploadRefusalReason =
  | "too_large"
  | "type_not_allowed"
  | "unknown_type"
  | "bad_filename"
  | "polyglot"
  | "infected"
  | "invalid_image"
  | "image_too_large"
  | "scan_failed"
  | "malformed";

/** The error code (and so the status) of each refusal reason: 413, 415, 422 or 503. */
export const REFUSAL_CODES: Readonly<Record<UploadRefusalReason, ErrorCode>> = Object.freeze({
  too_large: "upload_too_large",
  type_not_allowed: "upload_type_refused",
  unknown_type: "upload_type_refused",
  bad_filename: "upload_rejected",
  polyglot: "upload_rejected",
  infected: "upload_rejected",
  invalid_image: "upload_rejected",
  image_too_large: "upload_rejected",
  malformed: "upload_rejected",
  scan_failed: "upload_scan_failed",
});

/** A refused upload: what the client is told (the code) and what the audit records. */
export interface UploadRefusal {
  reason: UploadRefusalReason;
  code: ErrorCode;
  /** The type read from the bytes, when known (`image/png`), else `unknown`. */
  type: string;
  /** Bytes of the file seen (at most `max_size` + 1). */
  size: number;
  /** For an infected file: the scanner's signature name (safe characters only). */
  signature?: string;
}

/** Builds a refusal with the code of its reason. */
export function uploadRefusal(reason: UploadRefusalReason, type: string, size: number, signature?: string): UploadRefusal {
  return { reason, code: REFUSAL_CODES[reason], type, size, ...(signature === undefined ? {} : { signature: signature.replace(/[^\w.:/-]/g, "_").slice(0, 120) }) };
}
