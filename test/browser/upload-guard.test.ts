import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type Sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { APP_HOST } from "../helpers/proxies/gatehouse-listener.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { fillSignIn } from "../helpers/browser/portal.js";
import { HOST_RESOLVER_ARGS, startProxiedStack, type ProxiedStack } from "../helpers/browser/proxied-stack.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { multipartParts } from "../helpers/multipart-parts.js";

// The upload guard (docs/uploads.md) as a browser meets it: real Chromium → real nginx or Caddy with TLS (random
// port, hosts mapped with --host-resolver-rules) → Gatehouse in reverse-proxy mode → an app serving an
// HTML upload form. A PHP script named photo.png gets Gatehouse's error page (415) and the app receives
// nothing; a real photo arrives without its GPS position.

const sharp = createRequire(import.meta.url)("sharp") as typeof Sharp;

/** The app behind Gatehouse: an upload form at /photos, and what reached POST /photos/upload. */
interface PhotoApp {
  url: string;
  uploads: { headers: IncomingHttpHeaders; body: Buffer }[];
  close(): Promise<void>;
}

const FORM_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Photos</title></head><body>
<h1>Your photos</h1>
<form method="post" action="/photos/upload" enctype="multipart/form-data">
<label for="caption">Caption</label> <input id="caption" name="caption">
<label for="photo">Photo</label> <input id="photo" name="photo" type="file" accept="image/png,image/jpeg">
<button type="submit">Upload</button>
</form></body></html>`;

async function startPhotoApp(): Promise<PhotoApp> {
  const uploads: PhotoApp["uploads"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://app").pathname;
      if (req.method === "POST" && path === "/photos/upload") {
        uploads.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>Saved</title><h1>Photo saved</h1>`);
        return;
      }
      if (req.method === "GET" && path === "/photos") {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(FORM_PAGE);
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    uploads,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The file parts of a multipart body the app received: their headers and bytes. */
const fileParts = (contentType: string, body: Buffer) => multipartParts(contentType, body).filter((part) => /filename=/.test(part.headers));

/** exiftool's reading of an image (`-G1` group-prefixed tags, numbers as numbers). */
function exif(bytes: Buffer): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-exif-"));
  try {
    const file = join(dir, "f.jpg");
    writeFileSync(file, bytes);
    return (JSON.parse(execFileSync("/usr/bin/exiftool", ["-j", "-n", "-a", "-G1", file], { encoding: "utf8" })) as Record<string, unknown>[])[0] as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const gpsTags = (meta: Record<string, unknown>) => Object.keys(meta).filter((k) => k.startsWith("GPS"));

/** A 40 × 20 JPEG carrying a GPS position (the Eiffel Tower) and a camera in its EXIF, written by sharp's withExif. */
async function photoWithGps(): Promise<Buffer> {
  return sharp({ create: { width: 40, height: 20, channels: 3, background: "#cc3333" } })
    .withExif({
      IFD0: { Make: "TestCam", Model: "Model 7" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 3024/100", GPSLongitudeRef: "E", GPSLongitude: "2/1 17/1 4020/100" },
    })
    .jpeg()
    .toBuffer();
}

const PHP = Buffer.from('<?php system($_GET["c"]); ?>\n');

const rules = (appUrl: string) => `access_control:
  default_policy: deny
  rules:
    - domain: ["${APP_HOST}"]
      resources: ["^/photos/upload$"]
      methods: [POST]
      policy: one_factor
      body_limit: 2MB
      uploads: { max_size: 1MB, allowed_types: [image/png, image/jpeg], strip_metadata: true }
    - domain: ["${APP_HOST}"]
      policy: one_factor
upstreams:
  - domain: ${APP_HOST}
    url: ${appUrl}
`;

describeBrowser("browser: the upload guard's answers in Chromium (sqlite)", () => {
  for (const kind of ["nginx", "caddy"] as const) {
    describe.runIf(proxySuiteRuns(kind))(`through real ${kind} with TLS, reverse-proxy mode`, () => {
      let browser: Browser;
      let app: PhotoApp;
      let stack: ProxiedStack;

      beforeAll(async () => {
        app = await startPhotoApp();
        [browser, stack] = await Promise.all([launchChromium(HOST_RESOLVER_ARGS), startProxiedStack(kind, "reverse-proxy", rules(app.url))]);
      });
      afterAll(async () => {
        await browser?.close();
        await stack?.close();
        await app?.close();
      });

      it("attack: a PHP script picked as photo.png gets Gatehouse's 415 error page and never reaches the app; a real photo arrives without its GPS position", async () => {
        const user = await stack.user();
        const w = await watchedContext(browser, { ignoreHTTPSErrors: true });
        w.allow(/status of 415/);
        const page = await w.page();

        // Signed in on the app host (reverse-proxy mode: Gatehouse's page under /.gatehouse), back on the form.
        await page.goto(stack.url(APP_HOST, "/photos"));
        expect(new URL(page.url()).pathname).toBe("/.gatehouse/login");
        await fillSignIn(page, user.name);
        expect(page.url()).toBe(stack.url(APP_HOST, "/photos"));
        expect(await page.getByRole("heading", { name: "Your photos" }).isVisible()).toBe(true);

        // The script, named and declared as a PNG.
        await page.getByLabel("Caption").fill("holiday");
        await page.getByLabel("Photo").setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: PHP });
        const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Upload" }).click()]);
        expect(refused?.status()).toBe(415);
        expect(refused?.headers()["content-type"]).toContain("text/html");
        expect(await page.locator("[data-error=upload_type_refused]").count()).toBe(1);
        expect(await page.locator("body").textContent()).toContain("This type of file is not accepted here");
        expect(await page.content()).not.toContain("<?php");
        expect(app.uploads).toEqual([]);

        // A real photo with GPS in its EXIF.
        const photo = await photoWithGps();
        const before = exif(photo);
        expect(before["GPS:GPSLatitude"]).toBeCloseTo(48.8584, 3);
        expect(before["IFD0:Make"]).toBe("TestCam");
        await page.goto(stack.url(APP_HOST, "/photos"));
        await page.getByLabel("Caption").fill("Eiffel");
        await page.getByLabel("Photo").setInputFiles({ name: "paris.jpg", mimeType: "image/jpeg", buffer: photo });
        const [saved] = await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Upload" }).click()]);
        expect(saved?.status()).toBe(200);
        expect(await page.getByRole("heading", { name: "Photo saved" }).isVisible()).toBe(true);

        expect(app.uploads).toHaveLength(1);
        const got = app.uploads[0]!;
        expect(got.headers["remote-user"]).toBe(user.name);
        const files = fileParts(String(got.headers["content-type"]), got.body);
        expect(files).toHaveLength(1);
        expect(files[0]!.headers).toContain('filename="paris.jpg"');
        expect(files[0]!.headers).toContain("Content-Type: image/jpeg");
        expect(got.body.includes(Buffer.from("Eiffel"))).toBe(true); // the caption field came along
        const after = exif(files[0]!.data);
        expect(gpsTags(after)).toEqual([]);
        expect(after["IFD0:Make"]).toBeUndefined();
        const meta = await sharp(files[0]!.data).metadata();
        expect([meta.format, meta.width, meta.height, meta.exif]).toEqual(["jpeg", 40, 20, undefined]);
        await w.closeClean();
      });
    });
  }
});
