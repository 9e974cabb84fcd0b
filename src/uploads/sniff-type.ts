type FileTypeModule = typeof import("file-type");
// file-type is ESM-only and loaded with the first upload, never at idle (docs/performance.md).
let loading: Promise<FileTypeModule> | null = null;

/**
 * The type a file's bytes reveal (magic numbers, `file-type`), as
 * `{mime, ext}`, or null when they match no known binary format (plain text,
 * CSV, SVG and other text formats are not detected). The client's name and
 * declared Content-Type are never consulted.
 */
export async function sniffType(bytes: Uint8Array): Promise<{ mime: string; ext: string } | null> {
  const lib = await (loading ??= import("file-type"));
  const found = await lib.fileTypeFromBuffer(bytes);
  return found === undefined ? null : { mime: found.mime, ext: found.ext };
}
