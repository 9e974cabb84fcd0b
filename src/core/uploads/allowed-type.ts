import type { UploadRule } from "./upload-rule.js";
import { uploadRefusal, type UploadRefusal } from "./upload-refusal.js";

/**
 * Decides a file's type from what its bytes say (`detected`, a MIME type, or
 * null when the bytes match no known format). The client's file name and
 * declared Content-Type play no part. Returns the type to forward, or the
 * refusal (415).
 */
export function decideType(detected: string | null, size: number, rule: UploadRule): { ok: true; type: string } | { ok: false; refusal: UploadRefusal } {
  if (detected === null) {
    if (!rule.allowUnknown) return { ok: false, refusal: uploadRefusal("unknown_type", "unknown", size) };
    return { ok: true, type: "application/octet-stream" };
  }
  const type = detected.toLowerCase();
  if (rule.allowedTypes !== null && !rule.allowedTypes.includes(type)) return { ok: false, refusal: uploadRefusal("type_not_allowed", type, size) };
  return { ok: true, type };
}
