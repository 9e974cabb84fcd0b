/** One part of a multipart body: its header block and its bytes. */
export interface MultipartPart {
  headers: string;
  data: Buffer;
}

/** The parts of a `multipart/form-data` body as an app received it (the tests read what the upload guard forwarded). */
export function multipartParts(contentType: string, body: Buffer): MultipartPart[] {
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1] as string;
  const out: MultipartPart[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    out.push({ headers: part.subarray(0, split).toString("utf8"), data: part.subarray(split + 4) });
    at = next;
  }
  return out;
}
