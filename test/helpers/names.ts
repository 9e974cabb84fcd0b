let seq = 0;

/**
 * A fresh account name for this test file: `prefix` plus a counter spelled in
 * letters only (at least three), so the name is always long enough for the
 * username rules and never shows up inside hex or base64 noise. Every backend
 * gets its own database or schema, so a per-process counter is unique enough.
 */
export function uname(prefix: string): string {
  seq += 1;
  const letters = (seq + 26 * 26).toString(26).replace(/[0-9]/g, (d) => "qrstuvwxyz"[Number(d)]!);
  return `${prefix}${letters}`;
}
