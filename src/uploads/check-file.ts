import { decideType } from "../core/uploads/allowed-type.js";
import { ScannerUnavailableError, type FileScanner } from "../core/uploads/file-scanner.js";
import { looksLikePolyglot } from "../core/uploads/polyglot.js";
import { sanitizeFilename } from "../core/uploads/sanitize-filename.js";
import { uploadRefusal, type UploadRefusal } from "../core/uploads/upload-refusal.js";
import { STRIPPABLE_IMAGE_TYPES, type UploadRule } from "../core/uploads/upload-rule.js";
import { sniffType } from "./sniff-type.js";
import { stripImageMetadata } from "./strip-metadata.js";

/** A file that passed every check: the bytes to forward (cleaned when asked), its type from the bytes, its safe name. */
export interface AcceptedFile {
  ok: true;
  bytes: Buffer;
  /** The MIME type read from the bytes (`application/octet-stream` for an allowed unknown type). */
  type: string;
  /** The sanitized file name (null when none was given). */
  filename: string | null;
  /** True when the scanner could not answer and the rule's `on_scan_error: allow` let the file through unscanned. */
  unscanned: boolean;
}

/** What the checks say about one file. */
export type FileCheck = AcceptedFile | { ok: false; refusal: UploadRefusal };

export interface CheckFileOptions {
  /** The scanner of `scan: clamav`; null when none is configured (then the rule's `on_scan_error` applies). */
  scanner: FileScanner | null;
  /** Told why the scanner could not answer (for the operator's log); the rule's `on_scan_error` still decides. */
  onScannerUnavailable?: (err: Error) => void;
}

/**
 * Runs a rule's checks on one whole file (at most `max_size` bytes, already
 * read): its type from its bytes, the allowed types, polyglot images, the
 * virus scan, metadata removal, and the file name. The bytes are never
 * interpreted as the client's name or Content-Type claims.
 */
export async function checkFile(bytes: Buffer, rawFilename: string | null, rule: UploadRule, options: CheckFileOptions): Promise<FileCheck> {
  if (bytes.byteLength > rule.maxSize) return { ok: false, refusal: uploadRefusal("too_large", "unknown", bytes.byteLength) };
  const sniffed = await sniffType(bytes);
  const decided = decideType(sniffed?.mime ?? null, bytes.byteLength, rule);
  if (!decided.ok) return decided;
  const type = decided.type;
  if (looksLikePolyglot(type, bytes)) return { ok: false, refusal: uploadRefusal("polyglot", type, bytes.byteLength) };
  let unscanned = false;
  if (rule.scan === "clamav") {
    try {
      if (options.scanner === null) throw new ScannerUnavailableError("no CLAMD_URL is set");
      const verdict = await options.scanner.scan(bytes);
      if (!verdict.clean) return { ok: false, refusal: uploadRefusal("infected", type, bytes.byteLength, verdict.signature) };
    } catch (err) {
      if (!(err instanceof ScannerUnavailableError)) throw err;
      options.onScannerUnavailable?.(err);
      if (rule.onScanError === "reject") return { ok: false, refusal: uploadRefusal("scan_failed", type, bytes.byteLength) };
      unscanned = true;
    }
  }
  let out = bytes;
  if (rule.stripMetadata && STRIPPABLE_IMAGE_TYPES.has(type)) {
    const stripped = await stripImageMetadata(bytes, type, rule.maxPixels);
    if (!stripped.ok) return { ok: false, refusal: uploadRefusal(stripped.reason, type, bytes.byteLength) };
    out = stripped.bytes;
  }
  const filename = rawFilename === null ? null : sanitizeFilename(rawFilename, sniffed?.ext ?? null);
  return { ok: true, bytes: out, type, filename, unscanned };
}
