import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A request the protected app received, exactly as it arrived. */
export interface SeenRequest {
  method: string;
  /** The raw request target. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The raw header list, names as sent (keeps `Remote_User` and duplicates apart). */
  rawHeaders: string[];
}

/** The header every test request carries, so each one can be found at the upstream. */
export const PROBE_HEADER = "x-test-probe";

/** The app behind the proxy: records every request and echoes it back as JSON. */
export interface EchoUpstream {
  port: number;
  seen: SeenRequest[];
  /** Requests that carried this probe id. */
  saw(probe: string): SeenRequest[];
  close(): Promise<void>;
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const record: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders };
    seen.push(record);
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "x-echo-upstream": "1" });
      res.end(JSON.stringify(record));
    });
  });
  // A WebSocket handshake is recorded and accepted (101), then the socket is closed.
  server.on("upgrade", (req, socket) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders });
    socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Echo-Upstream: 1\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    saw: (probe) => seen.filter((r) => r.headers[PROBE_HEADER] === probe),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

