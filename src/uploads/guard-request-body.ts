import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type busboy from "busboy";
import type { FileScanner } from "../core/uploads/file-scanner.js";
import { uploadRefusal, type UploadRefusal } from "../core/uploads/upload-refusal.js";
import type { UploadRule } from "../core/uploads/upload-rule.js";
import { checkFile, type CheckFileOptions, type FileCheck } from "./check-file.js";
import { readLimited } from "./read-limited.js";

const require = createRequire(import.meta.url);

/** Most file parts in one multipart request; more is refused (422). */
export const MAX_FILES = 20;
/** Most non-file fields in one multipart request, and the size of each (1 MiB). */
const MAX_FIELDS = 200;
const MAX_FIELD_BYTES = 1024 * 1024;

/** A checked request body, ready to forward: its parts re-encoded, with the headers that describe it. */
export interface GuardedBody {
  ok: true;
  /** The body to send (every file checked, cleaned and renamed). */
  chunks: Buffer[];
  length: number;
  /** The Content-Type to forward: a fresh multipart boundary, or the raw body's type from its bytes. */
  contentType: string;
  /** Files let through unscanned by `on_scan_error: allow`. */
  unscanned: number;
  files: number;
}

export type GuardResult = GuardedBody | { ok: false; refusal: UploadRefusal };

/** A field name as it may appear in a Content-Disposition quoted string (the HTML form encoding: `"` and line breaks escaped). */
const quoted = (value: string): string => value.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");

/**
 * Checks a request body against an upload rule before anything reaches the
 * app. `multipart/form-data`: busboy reads the parts as they stream in, each
 * file is held in memory up to `max_size` (never more: one byte beyond is 413
 * and reading stops), checked with {@link checkFile}, and the form is
 * re-encoded with a new boundary, sanitized file names, the Content-Type read
 * from each file's bytes and, with `strip_metadata`, the cleaned image. Any
 * other body is one file, checked the same way. A body the app should not get
 * is never forwarded in part: the result is all-or-nothing.
 */
export async function guardRequestBody(body: Readable, contentType: string | undefined, rule: UploadRule, scanner: FileScanner | null, onScannerUnavailable?: (err: Error) => void): Promise<GuardResult> {
  const options = { scanner, ...(onScannerUnavailable === undefined ? {} : { onScannerUnavailable }) };
  if (contentType !== undefined && /^multipart\/form-data\s*;/i.test(contentType)) return guardMultipart(body, contentType, rule, options);
  const read = await readLimited(body, rule.maxSize);
  if (read.tooLarge) return { ok: false, refusal: uploadRefusal("too_large", "unknown", read.seen) };
  // An empty body (a POST without a file) has nothing to check.
  if (read.bytes.byteLength === 0) return { ok: true, chunks: [], length: 0, contentType: contentType ?? "application/octet-stream", unscanned: 0, files: 0 };
  const checked = await checkFile(read.bytes, null, rule, options);
  if (!checked.ok) return checked;
  return { ok: true, chunks: [checked.bytes], length: checked.bytes.byteLength, contentType: checked.type, unscanned: checked.unscanned ? 1 : 0, files: 1 };
}

type Part = { kind: "field"; name: string; value: string } | { kind: "file"; name: string; check: Promise<FileCheck>; empty: boolean };

function guardMultipart(body: Readable, contentType: string, rule: UploadRule, options: CheckFileOptions): Promise<GuardResult> {
  const Busboy = require("busboy") as typeof busboy;
  return new Promise<GuardResult>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = Busboy({
        headers: { "content-type": contentType },
        defParamCharset: "utf8",
        limits: { fileSize: rule.maxSize + 1, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FILES + MAX_FIELDS },
      });
    } catch {
      resolve({ ok: false, refusal: uploadRefusal("malformed", "unknown", 0) });
      return;
    }
    const parts: Part[] = [];
    let settled = false;
    const stop = (result: GuardResult | Error): void => {
      if (settled) return;
      settled = true;
      body.unpipe(parser);
      body.pause();
      parser.removeAllListeners();
      parser.on("error", () => undefined);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated || info.nameTruncated) return stop({ ok: false, refusal: uploadRefusal("malformed", "unknown", value.length) });
      parts.push({ kind: "field", name, value });
    });
    parser.on("file", (name, stream, info) => {
      const raw = info.filename ?? null;
      const check = readLimited(stream, rule.maxSize).then((read): FileCheck | Promise<FileCheck> => {
        if (read.tooLarge) {
          stream.resume();
          return { ok: false, refusal: uploadRefusal("too_large", "unknown", read.seen) };
        }
        // A form's empty file input (no file chosen): forwarded as the browser sent it.
        if (read.bytes.byteLength === 0 && (raw === null || raw === "")) return { ok: true, bytes: read.bytes, type: "application/octet-stream", filename: "", unscanned: false };
        return checkFile(read.bytes, raw, rule, options);
      });
      // busboy stops at `fileSize` (max_size + 1) and emits `limit`: the part is over max_size.
      stream.once("limit", () => stop({ ok: false, refusal: uploadRefusal("too_large", "unknown", rule.maxSize + 1) }));
      // The first refused file ends the whole request at once.
      check.then((c) => (c.ok ? undefined : stop(c)), (err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
      parts.push({ kind: "file", name, check, empty: raw === null || raw === "" });
    });
    parser.on("filesLimit", () => stop({ ok: false, refusal: uploadRefusal("malformed", "unknown", 0) }));
    parser.on("fieldsLimit", () => stop({ ok: false, refusal: uploadRefusal("malformed", "unknown", 0) }));
    parser.on("partsLimit", () => stop({ ok: false, refusal: uploadRefusal("malformed", "unknown", 0) }));
    parser.on("error", () => stop({ ok: false, refusal: uploadRefusal("malformed", "unknown", 0) }));
    body.on("error", (err) => stop(err));
    parser.on("close", () => {
      void (async () => {
        const boundary = `----GatehouseUpload${randomBytes(12).toString("hex")}`;
        const chunks: Buffer[] = [];
        let unscanned = 0;
        let files = 0;
        for (const part of parts) {
          const head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(part.name)}"`;
          if (part.kind === "field") {
            chunks.push(Buffer.from(`${head}\r\n\r\n`, "utf8"), Buffer.from(part.value, "utf8"), Buffer.from("\r\n"));
            continue;
          }
          const checked = await part.check;
          if (!checked.ok) return stop(checked);
          files++;
          if (checked.unscanned) unscanned++;
          chunks.push(Buffer.from(`${head}; filename="${quoted(checked.filename ?? "upload")}"\r\nContent-Type: ${checked.type}\r\n\r\n`, "utf8"), checked.bytes, Buffer.from("\r\n"));
        }
        chunks.push(Buffer.from(`--${boundary}--\r\n`));
        stop({ ok: true, chunks, length: chunks.reduce((n, c) => n + c.byteLength, 0), contentType: `multipart/form-data; boundary=${boundary}`, unscanned, files });
      })().catch((err: unknown) => stop(err instanceof Error ? err : new Error(String(err))));
    });
    body.pipe(parser);
  });
}
