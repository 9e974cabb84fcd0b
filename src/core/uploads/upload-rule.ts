/**
 * What a rule says about uploads (`uploads:` of a rules-file rule, or the
 * argument of the library's `checkUpload`). Every file of a request is
 * checked against it: multipart parts one by one, a raw body as one file.
 */
export interface UploadRule {
  /** Largest file, bytes (413 beyond); a file is buffered up to this size, never more. */
  maxSize: number;
  /** MIME types accepted, as read from the file's bytes (`image/png`); null = any detected type. */
  allowedTypes: readonly string[] | null;
  /** Accept a file whose type its bytes do not reveal (plain text, CSV…), forwarded as `application/octet-stream`. Default false: refused (415). */
  allowUnknown: boolean;
  /** Re-encode images (JPEG, PNG, WebP, TIFF, AVIF; not GIF) without EXIF/XMP/IPTC/GPS metadata, rotation applied first. */
  stripMetadata: boolean;
  /** Largest image, in pixels (width × height), that `strip_metadata` decodes: a bigger one is refused (422) before decoding (decompression bombs). */
  maxPixels: number;
  /** Virus scanning: `clamav` streams each file to clamd; null = no scan. */
  scan: "clamav" | null;
  /** When the scanner cannot answer: `reject` (default, 503) or `allow` (forwarded unscanned, logged). */
  onScanError: "reject" | "allow";
}

/** The defaults of every option but `max_size`. */
export const UPLOAD_RULE_DEFAULTS: Omit<UploadRule, "maxSize"> = Object.freeze({
  allowedTypes: null,
  allowUnknown: false,
  stripMetadata: false,
  maxPixels: 100_000_000,
  scan: null,
  onScanError: "reject",
});

/** The image types whose metadata `strip_metadata` removes (re-encoded in the same format). */
export const STRIPPABLE_IMAGE_TYPES: ReadonlySet<string> = new Set(["image/jpeg", "image/png", "image/webp", "image/tiff", "image/avif"]);
