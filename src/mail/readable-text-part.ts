/** The longest line SMTP and mail readers accept, without its CRLF (RFC 5322 §2.1.1). */
export const MAX_LINE_OCTETS = 998;

/**
 * The plain-text part as a raw MIME node that a person can read with `cat`:
 * `7bit` (ASCII) or `8bit` (UTF-8) instead of quoted-printable, so a link is
 * never cut by soft line breaks (`=` at a line end) nor its `=` written as
 * `=3D`. Null when a line is longer than {@link MAX_LINE_OCTETS} (or holds a
 * control character): the caller then lets the encoder choose
 * quoted-printable, which keeps such a mail valid.
 */
export function readableTextPart(text: string): string | null {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let ascii = true;
  for (const line of lines) {
    if (Buffer.byteLength(line, "utf8") > MAX_LINE_OCTETS) return null;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return null;
      if (c > 0x7e) ascii = false;
    }
  }
  return `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${ascii ? "7bit" : "8bit"}\r\n\r\n${lines.join("\r\n")}`;
}
