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
