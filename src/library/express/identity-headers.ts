import type { IncomingMessage } from "node:http";

/**
 * Removes every identity header a client may have sent itself (`Remote-User`,
 * `Remote-Email`, `Remote-Name`, `Remote-Groups`, `Remote-JWT` and any other
 * `Remote-…`, also spelled with `_`) from `req.headers` and `req.rawHeaders`,
 * so that an app reading them finds nothing forged.
 */
export function stripIdentityHeaders(req: IncomingMessage): void {
  const forged = (name: string) => name.toLowerCase().replaceAll("_", "-").startsWith("remote-");
  for (const name of Object.keys(req.headers)) if (forged(name)) delete req.headers[name];
  const raw = req.rawHeaders;
  if (!raw.some((v, i) => i % 2 === 0 && forged(v))) return;
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!forged(raw[i]!)) kept.push(raw[i]!, raw[i + 1]!);
  req.rawHeaders = kept;
}

/** Replaces the request's `Cookie` header (in `req.headers` and `req.rawHeaders`) by `value`, or removes it (null). */
export function replaceCookieHeader(req: IncomingMessage, value: string | null): void {
  if (value === null) delete req.headers.cookie;
  else req.headers.cookie = value;
  const raw = req.rawHeaders;
  const kept: string[] = [];
  let placed = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== "cookie") kept.push(raw[i]!, raw[i + 1]!);
    else if (!placed && value !== null) {
      kept.push(raw[i]!, value);
      placed = true;
    }
  }
  req.rawHeaders = kept;
}
