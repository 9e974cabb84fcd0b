const MARKERS = ["<?php", "<?PHP", "<?=", "<script", "<SCRIPT", "<Script", "<%@"].map((m) => Buffer.from(m, "latin1"));

/**
 * True when an image's bytes also carry a script a server or browser could run
 * (a GIF or PNG with PHP or HTML appended or hidden in a comment): such a
 * polyglot is refused (422) even when its image type is allowed.
 */
export function looksLikePolyglot(type: string, bytes: Uint8Array): boolean {
  if (!type.startsWith("image/")) return false;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return MARKERS.some((m) => buf.includes(m));
}
