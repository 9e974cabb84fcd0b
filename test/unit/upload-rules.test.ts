import { Readable } from "node:stream";
import { createRequire } from "node:module";
import type Sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ScannerUnavailableError, type FileScanner } from "../../src/core/uploads/file-scanner.js";
import { sanitizeFilename } from "../../src/core/uploads/sanitize-filename.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";
import { checkUpload } from "gatehouse/uploads";
import { parseClamdReply, parseClamdUrl } from "../../src/uploads/clamd-scanner.js";

const sharp = createRequire(import.meta.url)("sharp") as typeof Sharp;
const png = (): Promise<Buffer> => sharp({ create: { width: 4, height: 4, channels: 3, background: "#000" } }).png().toBuffer();

const rules = (uploads: string) => `
access_control:
  rules:
    - domain: app.test
      resources: ["^/upload"]
      policy: one_factor
      uploads: ${uploads}
`;

function problems(text: string): string[] {
  try {
    parseRulesFile(text);
    return [];
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
}

describe("upload rules in the rules file", () => {
  it("reads every option, with the defaults for the ones left out", () => {
    const full = parseRulesFile(rules("{ max_size: 25MB, allowed_types: [image/PNG, application/pdf], allow_unknown: true, strip_metadata: true, max_pixels: 40000000, scan: clamav, on_scan_error: allow }"));
    expect(full.rules[0]?.uploads).toEqual({ maxSize: 25_000_000, allowedTypes: ["image/png", "application/pdf"], allowUnknown: true, stripMetadata: true, maxPixels: 40_000_000, scan: "clamav", onScanError: "allow" });
    const minimal = parseRulesFile(rules("{ max_size: 1MiB }"));
    expect(minimal.rules[0]?.uploads).toEqual({ maxSize: 1024 * 1024, allowedTypes: null, allowUnknown: false, stripMetadata: false, maxPixels: 100_000_000, scan: null, onScanError: "reject" });
  });

  it("refuses a missing max_size, unknown keys, bad types and bad values, each with its line", () => {
    expect(problems(rules("{ strip_metadata: true }"))).toEqual([expect.stringMatching(/line \d+: `uploads.max_size` is required/)]);
    expect(problems(rules("{ max_size: 1MB, virus: yes }"))[0]).toMatch(/unknown key `virus`/);
    expect(problems(rules("{ max_size: 1MB, allowed_types: [png] }"))[0]).toMatch(/`png` is not a MIME type/);
    expect(problems(rules("{ max_size: 1MB, scan: mcafee }"))[0]).toMatch(/`uploads.scan` must be one of clamav, none/);
    expect(problems(rules("{ max_size: 1MB, on_scan_error: ignore }"))[0]).toMatch(/`uploads.on_scan_error` must be one of reject, allow/);
    expect(problems(rules("{ max_size: 1MB, strip_metadata: yes please }"))[0]).toMatch(/`uploads.strip_metadata` must be true or false/);
    expect(problems(rules("{ max_size: lots }"))[0]).toMatch(/`uploads.max_size` must be a size in bytes/);
    expect(problems(rules("{ max_size: 0 }"))[0]).toMatch(/at least 1 byte/);
    expect(problems(rules("10MB"))[0]).toMatch(/`uploads` must be a mapping/);
  });
});

describe("file names are sanitized, never trusted", () => {
  it.each([
    ["../../etc/passwd", "png", "passwd.png"],
    ["..\\..\\boot.ini", null, "boot.ini"],
    ["shell.php.jpg", "jpg", "shell_php.jpg"],
    ["photo.jpeg", "jpg", "photo.jpeg"],
    ["invoice.pdf.exe", "pdf", "invoice_pdf_exe.pdf"],
    ["run.sh", null, "run_sh.bin"],
    ["notes.txt", null, "notes.txt"],
    ["a\u0000b\u001b.png", "png", "a_b_.png"],
    ["\u202egnp.exe", "png", "gnp_exe.png"],
    ["...", "png", "upload.png"],
    ["", null, "upload"],
    [".htaccess", null, "htaccess"],
    ["x".repeat(500) + ".png", "png", "x".repeat(116) + ".png"],
  ])("%j → %j", (raw, ext, expected) => {
    expect(sanitizeFilename(raw, ext)).toBe(expected);
  });
});

describe("clamd client parsing", () => {
  it("reads CLAMD_URL forms and refuses others", () => {
    expect(parseClamdUrl("tcp://127.0.0.1:3310")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 3310 });
    expect(parseClamdUrl("tcp://[::1]:3310")).toEqual({ kind: "tcp", host: "::1", port: 3310 });
    expect(parseClamdUrl("unix:/run/clamav/clamd.ctl")).toEqual({ kind: "unix", path: "/run/clamav/clamd.ctl" });
    for (const bad of ["http://127.0.0.1:3310", "tcp://host", "unix:relative.sock", "clamd"]) expect(() => parseClamdUrl(bad), bad).toThrow(/tcp:\/\/host:port/);
  });

  it("reads clamd's replies: OK, FOUND with the signature, and anything else is no verdict", () => {
    expect(parseClamdReply("stream: OK")).toEqual({ clean: true });
    expect(parseClamdReply("stream: Eicar-Signature FOUND")).toEqual({ clean: false, signature: "Eicar-Signature" });
    expect(parseClamdReply("INSTREAM size limit exceeded. ERROR")).toBeNull();
    expect(parseClamdReply("stream: Can't allocate memory ERROR")).toBeNull();
  });
});

describe("checkUpload (library mode)", () => {
  it("accepts an allowed type read from the bytes, and sanitizes the name", async () => {
    const result = await checkUpload(await png(), { maxSize: 10_000, allowedTypes: ["image/png"] }, { filename: "../me.php.png" });
    expect(result).toMatchObject({ ok: true, type: "image/png", filename: "me_php.png", unscanned: false });
  });

  it("reads a stream up to maxSize and no further: one byte more is 413", async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1024;
        this.push(Buffer.alloc(1024, 65));
      },
    });
    const result = await checkUpload(endless, { maxSize: 4096, allowUnknown: true });
    expect(result).toMatchObject({ ok: false, status: 413, code: "upload_too_large", reason: "too_large" });
    expect(pulled).toBeLessThan(64 * 1024);
  });

  it("refuses unknown types unless allowUnknown, and a type not allowed (415)", async () => {
    expect(await checkUpload(Buffer.from("hello"), { maxSize: 100 })).toMatchObject({ ok: false, status: 415, reason: "unknown_type", error: "This type of file is not accepted here" });
    expect(await checkUpload(Buffer.from("hello"), { maxSize: 100, allowUnknown: true })).toMatchObject({ ok: true, type: "application/octet-stream" });
    expect(await checkUpload(await png(), { maxSize: 10_000, allowedTypes: ["image/jpeg"] })).toMatchObject({ ok: false, status: 415, reason: "type_not_allowed", type: "image/png" });
  });

  it("uses the scanner: infected is 422, unavailable is 503 or, with onScanError allow, accepted unscanned", async () => {
    const infected: FileScanner = { scan: async () => ({ clean: false, signature: "Test.Sig\n<x>" }) };
    expect(await checkUpload(Buffer.from("x"), { maxSize: 10, allowUnknown: true, scan: "clamav" }, { scanner: infected })).toMatchObject({ ok: false, status: 422, reason: "infected", signature: "Test.Sig__x_" });
    const down: FileScanner = { scan: async () => Promise.reject(new ScannerUnavailableError("down")) };
    expect(await checkUpload(Buffer.from("x"), { maxSize: 10, allowUnknown: true, scan: "clamav" }, { scanner: down })).toMatchObject({ ok: false, status: 503, code: "upload_scan_failed" });
    expect(await checkUpload(Buffer.from("x"), { maxSize: 10, allowUnknown: true, scan: "clamav", onScanError: "allow" }, { scanner: down })).toMatchObject({ ok: true, unscanned: true });
    expect(await checkUpload(Buffer.from("x"), { maxSize: 10, allowUnknown: true, scan: "clamav" })).toMatchObject({ ok: false, status: 503 });
  });
});
