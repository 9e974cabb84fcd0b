import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import type Sharp from "sharp";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { EICAR, startClamd, type TestClamd } from "../helpers/clamd.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { multipartParts } from "../helpers/multipart-parts.js";

const sharp = createRequire(import.meta.url)("sharp") as typeof Sharp;
const HOST = "app.test";

/** The app behind the guard: records every request with its whole body. */
interface Capture {
  url: string;
  seen: { url: string; headers: Record<string, string | string[] | undefined>; body: Buffer }[];
  /** Requests whose first body byte arrived, complete or not. */
  started: number;
  close(): Promise<void>;
}

async function startCapture(): Promise<Capture> {
  const seen: Capture["seen"] = [];
  let started = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let first = true;
    req.on("data", (c: Buffer) => {
      if (first) started++;
      first = false;
      chunks.push(c);
    });
    req.on("end", () => {
      seen.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get started() {
      return started;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.test
      resources: ["^/images"]
      policy: bypass
      body_limit: 30MB
      uploads: { max_size: 25MB, allowed_types: [image/png, image/jpeg], strip_metadata: true }
    - domain: app.test
      resources: ["^/files"]
      policy: bypass
      body_limit: 30MB
      uploads: { max_size: 25MB, allowed_types: [image/png, image/jpeg, image/gif, application/pdf, application/zip] }
    - domain: app.test
      resources: ["^/scan-reject"]
      policy: bypass
      uploads: { max_size: 1MB, allow_unknown: true, scan: clamav }
    - domain: app.test
      resources: ["^/scan-allow"]
      policy: bypass
      uploads: { max_size: 1MB, allow_unknown: true, scan: clamav, on_scan_error: allow }
    - domain: app.test
      policy: bypass
`;

interface Part {
  name: string;
  filename?: string;
  /** A raw `filename*=` parameter (RFC 5987), percent-encoded. */
  filenameStar?: string;
  type?: string;
  data: Buffer | string;
}

/** A multipart/form-data body exactly as a client may send it (declared types and names included). */
function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = "----testboundary7MA4YWxkTrZu0gW";
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    if (p.filenameStar !== undefined) head += `; filename*=UTF-8''${p.filenameStar}`;
    head += "\r\n";
    if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, "latin1"), Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data), Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}


const png = (width = 8, height = 8): Promise<Buffer> => sharp({ create: { width, height, channels: 3, background: "#3366cc" } }).png().toBuffer();

/** A small PNG whose header claims 50000 × 50000 pixels (a decompression bomb: 7.5 GB once decoded). */
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crcInput = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(crcInput));
    return Buffer.concat([len, crcInput, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(50_000, 0);
  ihdr.writeUInt32BE(50_000, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // RGB
  const rows = deflateSync(Buffer.alloc(50_001 * 3 * 20)); // the first rows only: the rest would be zeros too
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", rows), chunk("IEND", Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal ZIP holding one file (stored): enough for its type to read as application/zip. */
function zip(): Buffer {
  const name = Buffer.from("a.txt");
  const data = Buffer.from("hello");
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc32(data), 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  return Buffer.concat([local, name, data]);
}

function exif(bytes: Buffer): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-exif-"));
  try {
    const file = join(dir, "image.jpg");
    writeFileSync(file, bytes);
    return (JSON.parse(execFileSync("/usr/bin/exiftool", ["-j", "-n", "-a", "-G1", file], { encoding: "utf8" })) as Record<string, unknown>[])[0] as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A 40 × 20 JPEG with GPS coordinates and "rotate 90° clockwise" in its EXIF, written by exiftool. */
function jpegWithGps(source: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-gps-"));
  try {
    const file = join(dir, "photo.jpg");
    writeFileSync(file, source);
    execFileSync("/usr/bin/exiftool", ["-q", "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945", "-GPSLongitudeRef=E", "-Orientation#=6", "-XMP-dc:Creator=Someone", file]);
    return execFileSync("cat", [file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(backendNames())("upload guard in reverse-proxy mode (%s)", (backend) => {
  let h: Harness;
  let app: Capture;
  let clamd: TestClamd;
  let rulesDir: string;

  beforeAll(async () => {
    app = await startCapture();
    clamd = await startClamd();
    rulesDir = mkdtempSync(join(tmpdir(), "gatehouse-rules-"));
    writeFileSync(join(rulesDir, "gatehouse.yml"), RULES);
    h = await startHarness(backend, { UPSTREAM_URL: app.url, GATEHOUSE_CONFIG: join(rulesDir, "gatehouse.yml"), CLAMD_URL: clamd.url, CLAMD_TIMEOUT: "10s" });
  }, 90_000);
  afterAll(async () => {
    await h?.close();
    await app?.close();
    await clamd?.close();
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    app.seen.length = 0;
  });

  const post = (url: string, form: { body: Buffer; contentType: string }, headers: Record<string, string> = {}) =>
    h.request({ method: "POST", url, payload: form.body, headers: { host: HOST, "content-type": form.contentType, ...headers } });
  const refusals = async () => (await h.gh.audit.search({ limit: 200, type: "upload_refused" } as Parameters<typeof h.gh.audit.search>[0])).events;
  type Refusal = Awaited<ReturnType<typeof refusals>>[number];
  /** The audit event a refusal records (written after the answer: waited for). */
  const refusal = (match: (e: Refusal) => boolean): Promise<Refusal> =>
    vi.waitFor(async () => {
      const found = (await refusals()).find(match);
      if (found === undefined) throw new Error("not recorded yet");
      return found;
    }, { timeout: 5000, interval: 50 });

  it("a photo arrives at the app without its GPS position or other metadata, turned upright, with its declared type replaced by the one its bytes show", async () => {
    const photo = jpegWithGps(await sharp({ create: { width: 40, height: 20, channels: 3, background: "#cc3333" } }).jpeg().toBuffer());
    const before = exif(photo);
    expect(before["GPS:GPSLatitude"]).toBeCloseTo(48.8584, 3);
    expect(before["IFD0:Orientation"]).toBe(6);

    const res = await post("/images/upload", multipart([{ name: "title", data: "Eiffel" }, { name: "photo", filename: "paris.jpg", type: "text/html", data: photo }]));
    expect(res.statusCode, res.body).toBe(200);
    expect(app.seen).toHaveLength(1);
    const seen = app.seen[0] as Capture["seen"][number];
    const parts = multipartParts(seen.headers["content-type"] as string, seen.body);
    expect(parts).toHaveLength(2);
    expect(parts[0]?.headers).toContain('name="title"');
    expect(parts[0]?.data.toString()).toBe("Eiffel");
    const file = parts[1] as { headers: string; data: Buffer };
    expect(file.headers).toContain('filename="paris.jpg"');
    expect(file.headers).toContain("Content-Type: image/jpeg");
    expect(Number(seen.headers["content-length"])).toBe(seen.body.length);

    const after = exif(file.data);
    const gps = Object.keys(after).filter((k) => k.startsWith("GPS"));
    expect(gps).toEqual([]);
    expect(Object.keys(after).filter((k) => k.startsWith("XMP"))).toEqual([]);
    expect(after["IFD0:Orientation"]).toBeUndefined();
    // Rotation applied to the pixels: 40 × 20 turned 90° is 20 × 40.
    const meta = await sharp(file.data).metadata();
    expect([meta.width, meta.height]).toEqual([20, 40]);
  });

  it("a raw (non-multipart) image body is one file: cleaned, forwarded with the type from its bytes", async () => {
    const photo = jpegWithGps(await sharp({ create: { width: 16, height: 16, channels: 3, background: "#00aa00" } }).jpeg().toBuffer());
    const res = await h.request({ method: "PUT", url: "/images/raw", payload: photo, headers: { host: HOST, "content-type": "application/octet-stream" } });
    expect(res.statusCode, res.body).toBe(200);
    const seen = app.seen[0] as Capture["seen"][number];
    expect(seen.headers["content-type"]).toBe("image/jpeg");
    expect(Object.keys(exif(seen.body)).filter((k) => k.startsWith("GPS"))).toEqual([]);
  });

  it("over a real socket, a chunked multipart upload streamed in small writes arrives cleaned; an EICAR one never arrives", async () => {
    await h.gh.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (h.gh.app.server.address() as AddressInfo).port;
    const send = (path: string, form: { body: Buffer; contentType: string }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path, method: "POST", headers: { host: HOST, "content-type": form.contentType, "transfer-encoding": "chunked" } });
        req.on("response", (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject);
        for (let at = 0; at < form.body.length; at += 1000) req.write(form.body.subarray(at, at + 1000));
        req.end();
      });
    const photo = jpegWithGps(await sharp({ create: { width: 30, height: 10, channels: 3, background: "#123456" } }).jpeg().toBuffer());
    const ok = await send("/images/upload", multipart([{ name: "photo", filename: "me.jpg", data: photo }]));
    expect(ok.status, ok.body).toBe(200);
    const file = multipartParts(app.seen[0]?.headers["content-type"] as string, app.seen[0]?.body as Buffer)[0]?.data as Buffer;
    expect(Object.keys(exif(file)).filter((k) => k.startsWith("GPS"))).toEqual([]);
    const virus = await send("/scan-reject/upload", multipart([{ name: "f", filename: "invoice.txt", data: EICAR }]));
    expect(virus.status).toBe(422);
    expect(app.seen).toHaveLength(1);
  });

  it("attack: a PHP script named .png with Content-Type image/png is refused (415): the type comes from the bytes", async () => {
    const res = await post("/images/upload", multipart([{ name: "f", filename: "avatar.png", type: "image/png", data: "<?php system($_GET['c']); ?>" }]));
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ error: "This type of file is not accepted here", code: "upload_type_refused" });
    expect(app.seen).toHaveLength(0);
  });

  it("attack: a GIF/PHP polyglot is refused where only PNG and JPEG are allowed (415), and as unsafe where GIF is (422)", async () => {
    const polyglot = Buffer.concat([Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1"), Buffer.from("<?php echo shell_exec($_GET['c']); ?>")]);
    const images = await post("/images/upload", multipart([{ name: "f", filename: "x.gif", type: "image/gif", data: polyglot }]));
    expect(images.statusCode).toBe(415);
    const files = await post("/files/upload", multipart([{ name: "f", filename: "x.gif", type: "image/gif", data: polyglot }]));
    expect(files.statusCode).toBe(422);
    expect(files.json().code).toBe("upload_rejected");
    expect(app.seen).toHaveLength(0);
    expect((await refusal((e) => e.details.reason === "polyglot")).details).toMatchObject({ type: "image/gif", rule: expect.stringMatching(/^rule 2 /) });
  });

  it("attack: an SVG with a script is refused where SVG is not allowed (415)", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>';
    const res = await post("/images/upload", multipart([{ name: "f", filename: "logo.svg", type: "image/svg+xml", data: svg }]));
    expect(res.statusCode).toBe(415);
    expect(app.seen).toHaveLength(0);
  });

  it("attack: a ZIP (a possible zip bomb) where only images are allowed is refused (415); where ZIP is allowed it is forwarded unopened", async () => {
    const images = await post("/images/upload", multipart([{ name: "f", filename: "photo.jpg", type: "image/jpeg", data: zip() }]));
    expect(images.statusCode).toBe(415);
    expect(app.seen).toHaveLength(0);
    const files = await post("/files/upload", multipart([{ name: "f", filename: "archive.zip", data: zip() }]));
    expect(files.statusCode).toBe(200);
    const part = multipartParts(app.seen[0]?.headers["content-type"] as string, app.seen[0]?.body as Buffer)[0];
    expect(part?.headers).toContain("Content-Type: application/zip");
    expect(part?.data.equals(zip())).toBe(true);
  });

  it("attack: a decompression-bomb PNG (50000 × 50000 pixels in a small file) is refused (422) before it is decoded", async () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(100_000);
    const res = await post("/images/upload", multipart([{ name: "f", filename: "bomb.png", type: "image/png", data: bomb }]));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("upload_rejected");
    expect(app.seen).toHaveLength(0);
    const event = await refusal((e) => e.details.reason === "image_too_large");
    expect(event?.details).toMatchObject({ type: "image/png", size: bomb.length });
  });

  it("attack: a file of max_size + 1 byte (25 MB + 1) is refused with 413 and the app gets no byte of it; max_size itself passes", async () => {
    const big = Buffer.alloc(25_000_001, 0);
    (await png()).copy(big); // a PNG header: the type is not what refuses it
    const startedBefore = app.started;
    const res = await post("/files/upload", multipart([{ name: "f", filename: "big.png", data: big }]));
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe("upload_too_large");
    expect(res.headers.connection).toBe("close");
    const raw = await h.request({ method: "PUT", url: "/files/raw", payload: big, headers: { host: HOST, "content-type": "image/png" } });
    expect(raw.statusCode).toBe(413);
    expect(app.started).toBe(startedBefore);
    expect(app.seen).toHaveLength(0);
    const event = await refusal((e) => e.details.reason === "too_large");
    expect(event?.details.rule).toMatch(/^rule 2 /);

    const exact = await post("/files/upload", multipart([{ name: "f", filename: "big.png", data: big.subarray(0, 25_000_000) }]));
    expect(exact.statusCode).toBe(200);
    expect(multipartParts(app.seen[0]?.headers["content-type"] as string, app.seen[0]?.body as Buffer)[0]?.data.length).toBe(25_000_000);
  });

  it("attack: path traversal, control characters, NUL, bidi overrides and double extensions in file names are sanitized", async () => {
    const image = await png();
    const res = await post(
      "/files/upload",
      multipart([
        { name: "a", filename: "../../etc/passwd", data: image },
        { name: "b", filenameStar: "evil%07name%1B%5B31m.png", data: image },
        { name: "c", filename: "shell.php.jpg", data: await sharp(image).jpeg().toBuffer() },
        { name: "d", filename: "C:\\Windows\\system32\\..\\run.exe", data: image },
        { name: "e", filenameStar: "photo.png%00.php", data: image },
        { name: "f", filenameStar: "%E2%80%AEgnp.exe", data: image },
      ]),
    );
    expect(res.statusCode, res.body).toBe(200);
    const parts = multipartParts(app.seen[0]?.headers["content-type"] as string, app.seen[0]?.body as Buffer);
    const names = parts.map((p) => /filename="([^"]*)"/.exec(p.headers)?.[1]);
    expect(names).toEqual(["passwd.png", "evil_name_[31m.png", "shell_php.jpg", "run_exe.png", "photo_png__php.png", "gnp_exe.png"]);
    // eslint-disable-next-line no-control-regex -- no control character but the CRLF line breaks
    for (const p of parts) expect(p.headers).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u202e]/);
  });

  it("attack: raw control characters (NUL, ESC) inside a part's header make the form malformed: refused (422), nothing forwarded", async () => {
    const image = await png();
    for (const filename of ["photo.png\u0000.php", "evil\u001b[31m.png"]) {
      const res = await post("/files/upload", multipart([{ name: "f", filename, data: image }]));
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe("upload_rejected");
    }
    expect(app.seen).toHaveLength(0);
  });

  it("a browser form post that is refused gets an HTML page with the same status", async () => {
    const res = await post("/images/upload", multipart([{ name: "f", filename: "a.png", data: "plain text" }]), { accept: "text/html,application/xhtml+xml" });
    expect(res.statusCode).toBe(415);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain('data-error="upload_type_refused"');
  });

  it("every refusal is audited as upload_refused with reason, type, size and rule, never the file name or contents", async () => {
    await post("/images/upload", multipart([{ name: "f", filenameStar: "secret%01name.png", data: "<?php echo 1; ?>" }]));
    const last = await refusal((e) => e.details.reason === "unknown_type" && e.details.size === 16);
    const events = await refusals();
    expect(last?.details).toMatchObject({ reason: "unknown_type", type: "unknown", size: 16 });
    expect(String(last?.details.rule)).toMatch(/^rule 1 /);
    expect(JSON.stringify(events)).not.toContain("secret");
    expect(JSON.stringify(events)).not.toContain("<?php");
  });

  it("clamd: the EICAR test file is refused (422), audited with its signature, and never reaches the app; a clean file arrives", async () => {
    const res = await post("/scan-reject/upload", multipart([{ name: "f", filename: "eicar.com", data: EICAR }]));
    expect(res.statusCode).toBe(422);
    expect(res.json().code).toBe("upload_rejected");
    const raw = await h.request({ method: "POST", url: "/scan-allow/raw", payload: EICAR, headers: { host: HOST, "content-type": "text/plain" } });
    expect(raw.statusCode).toBe(422);
    expect(app.seen).toHaveLength(0);
    const event = await refusal((e) => e.details.reason === "infected");
    expect(event?.details.signature).toMatch(/eicar/i);

    const clean = await post("/scan-reject/upload", multipart([{ name: "f", filename: "notes.txt", data: "just some notes" }]));
    expect(clean.statusCode).toBe(200);
    const part = multipartParts(app.seen[0]?.headers["content-type"] as string, app.seen[0]?.body as Buffer)[0];
    expect(part?.data.toString()).toBe("just some notes");
    expect(part?.headers).toContain("Content-Type: application/octet-stream");
  });

  it("clamd down: on_scan_error reject refuses (503 upload_scan_failed), on_scan_error allow forwards", async () => {
    await clamd.stop();
    const rejected = await post("/scan-reject/upload", multipart([{ name: "f", filename: "notes.txt", data: "notes" }]));
    expect(rejected.statusCode).toBe(503);
    expect(rejected.json().code).toBe("upload_scan_failed");
    expect(rejected.headers["retry-after"]).toBeDefined();
    expect(app.seen).toHaveLength(0);
    const allowed = await post("/scan-allow/upload", multipart([{ name: "f", filename: "notes.txt", data: "notes" }]));
    expect(allowed.statusCode).toBe(200);
    expect(app.seen).toHaveLength(1);
    expect((await refusal((e) => e.details.reason === "scan_failed")).details.rule).toMatch(/^rule 3 /);
  });
});
