/** Extensions a web server or a desktop may execute: never kept before the last extension (`shell.php.jpg`). */
const EXECUTABLE = new Set([
  "php", "php3", "php4", "php5", "php7", "phtml", "phar", "pht", "phps", "asp", "aspx", "ashx", "asmx", "cer", "jsp", "jspx",
  "cgi", "pl", "py", "rb", "sh", "bash", "exe", "com", "bat", "cmd", "dll", "msi", "scr", "vbs", "js", "mjs", "jar",
  "ps1", "htaccess", "shtml", "html", "htm", "svg", "xhtml", "hta", "war", "lnk",
]);
const MAX_LENGTH = 120;

/**
 * A client's file name made safe to hand to an app: the last path segment
 * only (`../../etc/passwd` → `passwd`), no control characters, no characters
 * shells or Windows refuse (`<>:"/\|?*`), no leading dots, inner executable
 * extensions neutralized (`shell.php.jpg` → `shell_php.jpg`), the extension
 * set to one matching the type read from the bytes when the name's own is
 * different or missing, at most 120 characters. An empty result becomes
 * `upload` (+ extension). Never throws: any input gives a usable name.
 */
export function sanitizeFilename(raw: string, extension: string | null): string {
  // NFC, then the last segment of either separator.
  let name = raw.normalize("NFC");
  const cut = Math.max(name.lastIndexOf("/"), name.lastIndexOf("\\"));
  if (cut >= 0) name = name.slice(cut + 1);
  // Control characters (C0, DEL, C1), bidi overrides and Windows-reserved characters become `_`.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  name = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069<>:"|?*]/g, "_");
  name = name.replace(/^[.\s_]+/, "").replace(/[.\s]+$/, "");
  const parts = name.split(".");
  let base = parts[0] ?? "";
  let ext = parts.length > 1 ? (parts[parts.length - 1] ?? "").toLowerCase() : "";
  // Every inner extension is joined with `_`: nothing before the last dot can be read as a type.
  for (const inner of parts.slice(1, -1)) base += `_${EXECUTABLE.has(inner.toLowerCase()) ? inner.toLowerCase() : inner}`;
  if (extension !== null && ext !== extension && !(extension === "jpg" && ext === "jpeg")) {
    if (ext !== "") base += `_${ext}`;
    ext = extension;
  }
  if (extension === null && EXECUTABLE.has(ext)) {
    base += `_${ext}`;
    ext = "bin";
  }
  base = base.replace(/\s+/g, " ").trim();
  if (base === "") base = "upload";
  const suffix = ext === "" ? "" : `.${ext.replace(/[^a-z0-9]/g, "").slice(0, 10)}`;
  return base.slice(0, MAX_LENGTH - suffix.length) + suffix;
}
