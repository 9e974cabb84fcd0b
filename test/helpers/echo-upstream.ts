import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

/** A request the protected app received, exactly as it arrived. */
export interface SeenRequest {
  method: string;
  /** The raw request target. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw header list, names as sent (keeps `Remote_User` and duplicates apart). */
  rawHeaders: string[];
  /** Body bytes received so far (grows while a streamed upload is in flight). */
  bytes: number;
  /** When the first body byte arrived (performance.now()), or null. */
  firstByteAt: number | null;
  done: boolean;
  websocket: boolean;
}

/** The header every proxy-suite request carries, so each one can be found at the upstream. */
export const PROBE_HEADER = "x-test-probe";

/**
 * The app behind Gatehouse or a proxy: a real HTTP + WebSocket echo on a
 * loopback port that records every request it receives.
 */
export interface EchoUpstream {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  seen: SeenRequest[];
  /** Requests that carried this probe id ({@link PROBE_HEADER}). */
  saw(probe: string): SeenRequest[];
  /** Resolves when the next request reaches the upstream (its headers, not yet its body). */
  nextRequest(): Promise<SeenRequest>;
  close(): Promise<void>;
}

export interface EchoUpstreamOptions {
  /**
   * Answer every request with `Set-Cookie: app=1` and `gatehouse_session=planted`
   * (the reverse-proxy suites check that Gatehouse passes the first and drops the second).
   */
  plantCookies?: boolean;
}

/**
 * Starts the echo app. Every HTTP request is answered 200 with the JSON
 * `{method, url, headers, rawHeaders, bytes}` and the headers
 * `x-echo-upstream: 1` and `x-upstream: echo`; a WebSocket handshake is
 * accepted (101, also marked `X-Echo-Upstream: 1`), greets with
 * `{hello: {url, headers}}` and echoes every message.
 */
export async function startEchoUpstream(options: EchoUpstreamOptions = {}): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  const waiters: ((s: SeenRequest) => void)[] = [];
  const record = (s: SeenRequest): void => {
    seen.push(s);
    for (const w of waiters.splice(0)) w(s);
  };
  const server: Server = createServer((req, res) => {
    const entry: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, bytes: 0, firstByteAt: null, done: false, websocket: false };
    record(entry);
    req.on("data", (chunk: Buffer) => {
      entry.firstByteAt ??= performance.now();
      entry.bytes += chunk.length;
    });
    req.on("end", () => {
      entry.done = true;
      const body = JSON.stringify({ method: entry.method, url: entry.url, headers: entry.headers, rawHeaders: entry.rawHeaders, bytes: entry.bytes });
      res.writeHead(200, {
        "content-type": "application/json",
        "x-echo-upstream": "1",
        "x-upstream": "echo",
        ...(options.plantCookies ? { "set-cookie": ["app=1; Path=/", "gatehouse_session=planted; Path=/"] } : {}),
      });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  wss.on("headers", (headers) => headers.push("X-Echo-Upstream: 1"));
  server.on("upgrade", (req, socket, head) => {
    record({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, bytes: 0, firstByteAt: null, done: true, websocket: true });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ hello: { url: req.url, headers: req.headers } }));
      ws.on("message", (data, binary) => ws.send(data, { binary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    saw: (probe) => seen.filter((r) => r.headers[PROBE_HEADER] === probe),
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
