import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { identityOf, whoamiPage } from "./whoami-page.js";
import { ws } from "../http/proxy/websocket-proxy.js";

/** The header carrying the per-process key Gatehouse adds to every request it forwards to the demo. */
export const DEMO_KEY_HEADER = "x-gatehouse-demo-key";

/** A running demo app. */
export interface WhoamiApp {
  /** Its origin on the loopback interface, e.g. `http://127.0.0.1:41234`. */
  origin: URL;
  /** The key only Gatehouse knows: requests without it are refused (nobody else on the host can forge headers to it). */
  key: string;
  close(): Promise<void>;
}

function keyMatches(presented: string | string[] | undefined, key: string): boolean {
  if (typeof presented !== "string") return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(key);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
  });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, portalPrefix: string): void {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "text/plain; charset=utf-8", "Method not allowed\n");
  if (path === "/demo" || path === "/demo/") {
    return send(res, 200, "text/html; charset=utf-8", whoamiPage("Who am I?", "You are signed in. Gatehouse told this app who you are:", req.headers, portalPrefix));
  }
  if (path === "/demo/admin" || path === "/demo/admin/") {
    return send(res, 200, "text/html; charset=utf-8", whoamiPage("Admin area", "Only admins get here: the access rules send everyone else away with 403.", req.headers, portalPrefix));
  }
  if (path === "/demo/api/whoami") return send(res, 200, "application/json; charset=utf-8", JSON.stringify(identityOf(req.headers)));
  return send(res, 404, "text/plain; charset=utf-8", "Not found\n");
}

/**
 * Starts the built-in "whoami" demo on an ephemeral loopback port: a tiny app
 * that trusts the identity headers it receives, exactly like an app behind
 * Gatehouse would. Gatehouse forwards `/demo/…` to it through the same code
 * path as a real upstream (rules, header stripping, identity injection).
 * `GET /demo/ws` is a WebSocket that greets with the identity and echoes.
 */
export async function startWhoamiApp(options: { portalPrefix?: string } = {}): Promise<WhoamiApp> {
  const key = randomBytes(32).toString("base64url");
  const portalPrefix = options.portalPrefix ?? "";
  const server: Server = createServer((req, res) => {
    if (!keyMatches(req.headers[DEMO_KEY_HEADER], key)) return send(res, 403, "text/plain; charset=utf-8", "Only Gatehouse may call the demo app\n");
    handle(req, res, portalPrefix);
  });
  const wss = new (ws().WebSocketServer)({ noServer: true });
  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    if (!keyMatches(req.headers[DEMO_KEY_HEADER], key) || path !== "/demo/ws") {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ hello: identityOf(req.headers) }));
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: new URL(`http://127.0.0.1:${port}`),
    key,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
