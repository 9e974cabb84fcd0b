import { randomUUID } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { PROBE_HEADER } from "../echo-upstream.js";

/** What the client got back from the proxy. */
export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The probe id this request carried. */
  probe: string;
  /** Set when the upstream echo answered (the request reached the app). */
  echoed: { url: string; headers: Record<string, string | string[] | undefined> } | null;
}

export interface ProxyRequest {
  /** Sent verbatim as the request target: `//admin`, `/%61dmin` reach the proxy unaltered. */
  path: string;
  host: string;
  method?: string;
  /** Raw header pairs, sent as given (names keep their spelling, e.g. `Remote_User`). */
  headers?: [string, string][];
  cookie?: string;
  /** A request body (Content-Length is set). */
  body?: string;
}

/**
 * Sends one request over TLS to a proxy on 127.0.0.1:`port`, with SNI and
 * Host set to `host` (the proxies' test certificates are self-signed, so the
 * certificate is not verified here). A fresh connection per request.
 */
export function proxyRequest(port: number, req: ProxyRequest): Promise<ProxyResponse> {
  const probe = randomUUID();
  const headers: [string, string][] = [["Host", req.host], [PROBE_HEADER, probe], ...(req.headers ?? [])];
  if (req.cookie) headers.push(["Cookie", req.cookie]);
  if (req.body !== undefined) headers.push(["Content-Length", String(Buffer.byteLength(req.body))]);
  return new Promise((resolve, reject) => {
    const r = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        servername: req.host.replace(/:\d+$/, ""),
        method: req.method ?? "GET",
        path: req.path,
        headers: headers.flat(),
        rejectUnauthorized: false,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          let echoed: ProxyResponse["echoed"] = null;
          if (res.headers["x-echo-upstream"] === "1") echoed = JSON.parse(body) as ProxyResponse["echoed"];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, probe, echoed });
        });
        res.on("error", reject);
      },
    );
    // A WebSocket handshake the proxy let through: 101, no body.
    r.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "", probe, echoed: null });
    });
    r.on("timeout", () => r.destroy(new Error(`request to ${req.host}${req.path} timed out`)));
    r.on("error", reject);
    r.end(req.body);
  });
}

/** Waits until something accepts TLS on 127.0.0.1:`port` for `host`. */
export async function waitForTls(port: number, host: string, isDead: () => string | null, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const dead = isDead();
    if (dead) throw new Error(dead);
    try {
      await proxyRequest(port, { path: "/__ready", host });
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`proxy on port ${port} did not come up: ${String(last)}`);
}

/** A session cookie as a browser would store it from a proxied response's Set-Cookie. */
export interface BrowserCookie {
  name: string;
  value: string;
  /** The Domain attribute (leading dot removed), or null for a host-only cookie. */
  domain: string | null;
}

/** The non-empty Gatehouse session cookies a response sets. */
export function sessionCookiesFrom(res: ProxyResponse): BrowserCookie[] {
  const raw = res.headers["set-cookie"];
  const lines = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  const out: BrowserCookie[] = [];
  for (const line of lines) {
    const [pair = "", ...attrs] = line.split(";");
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (!name.includes("gatehouse_session") || value === "") continue;
    const domainAttr = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith("domain="));
    out.push({ name, value, domain: domainAttr ? domainAttr.slice(7).replace(/^\./, "").toLowerCase() : null });
  }
  return out;
}

/** Whether a browser sends `cookie` (set by `setBy`) on a request to `host` (RFC 6265 domain matching). */
export function browserSends(cookie: BrowserCookie, setBy: string, host: string): boolean {
  if (cookie.domain === null) return host === setBy;
  return host === cookie.domain || host.endsWith(`.${cookie.domain}`);
}
