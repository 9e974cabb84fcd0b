import { createRequire } from "node:module";
import type Sharp from "sharp";

const require = createRequire(import.meta.url);
// sharp (libvips) is loaded with the first image to clean, never at idle (docs/performance.md).
let sharp: typeof Sharp | null = null;
const lib = (): typeof Sharp => (sharp ??= require("sharp") as typeof Sharp);

/** Why an image could not be cleaned: over the pixel limit (a decompression bomb), or not decodable. */
export type StripFailure = "image_too_large" | "invalid_image";

/**
 * Re-encodes an image (JPEG, PNG, WebP, TIFF, AVIF) in its own format without
 * any metadata: EXIF (GPS, camera, dates), XMP, IPTC and ICC profiles are not
 * written. The EXIF orientation is applied to the pixels first (`rotate()`),
 * so the picture still shows the right way up. `maxPixels` is checked from the
 * header before anything is decoded; a bigger image is `image_too_large`.
 */
export async function stripImageMetadata(bytes: Uint8Array, mime: string, maxPixels: number): Promise<{ ok: true; bytes: Buffer } | { ok: false; reason: StripFailure }> {
  const sharpLib = lib();
  try {
    const image = sharpLib(bytes, { limitInputPixels: maxPixels, failOn: "error", sequentialRead: true }).rotate();
    const format = mime === "image/jpeg" ? image.jpeg({ quality: 90, mozjpeg: false }) : mime === "image/png" ? image.png() : mime === "image/webp" ? image.webp({ quality: 90 }) : mime === "image/tiff" ? image.tiff() : image.avif();
    return { ok: true, bytes: await format.toBuffer() };
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    return { ok: false, reason: /pixel limit/i.test(message) ? "image_too_large" : "invalid_image" };
  }
}
