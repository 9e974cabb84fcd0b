import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createRequire } from "node:module";
import type { RawData, WebSocket } from "ws";
import type * as Ws from "ws";
import type { AccessRequest } from "../../core/gateway/access-decision.js";
import type { OpenSockets } from "./open-sockets.js";

// `ws` is loaded with the first WebSocket upgrade, not at start (docs/performance.md).
const require = createRequire(import.meta.url);
let wsLib: typeof Ws | null = null;
/** The `ws` module, loaded on first use. */
export const ws = (): typeof Ws => (wsLib ??= require("ws") as typeof Ws);

/** What one authorized WebSocket upgrade is forwarded as. */
export interface WebSocketForward {
  raw: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  /** Upstream origin (http/https; turned into ws/wss). */
  upstream: URL;
  /** Raw path and query, starting with `/`. */
  uri: string;
  /** Headers for the upstream handshake (identity injected, client copies stripped). */
  headers: Record<string, string | string[]>;
  request: AccessRequest;
  sessionToken: string | null;
}

/** True when an upgrade request is a well-formed WebSocket handshake (RFC 6455 §4.2.1). */
export function isWebSocketHandshake(raw: IncomingMessage): boolean {
  const h = raw.headers;
  return (
    raw.method === "GET" &&
    typeof h.upgrade === "string" &&
    h.upgrade.toLowerCase() === "websocket" &&
    typeof h["sec-websocket-key"] === "string" &&
    /^[+/0-9A-Za-z]{22}==$/.test(h["sec-websocket-key"]) &&
    (h["sec-websocket-version"] === "13" || h["sec-websocket-version"] === "8")
  );
}

/** Answers a raw upgrade socket with a plain HTTP error and closes it. */
export function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: message, code });
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${status === 502 ? "Bad Gateway" : "Error"}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else {
    socket.destroy();
  }
}

/** A close code that may be sent on the wire (1005/1006/1015 are reserved for reporting only). */
function sendableCode(code: number): number {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999) ? code : 1000;
}

function relayClose(to: WebSocket, code: number, reason: Buffer): void {
  if (to.readyState === to.OPEN) to.close(sendableCode(code), reason.length <= 123 ? reason : undefined);
  else if (to.readyState === to.CONNECTING) to.terminate();
}

/**
 * Proxies authorized WebSocket upgrades with `ws`: the upstream handshake
 * is made first (so the subprotocol it picks is the one the client gets),
 * then the client's upgrade is completed and frames are relayed both ways.
 * Every socket joins the {@link OpenSockets} registry that re-authorizes it.
 */
export function createWebSocketProxy(options: { sockets: OpenSockets; maxPayload: number; onError(err: unknown): void }) {
  const chosen = new WeakMap<IncomingMessage, string>();
  let server: Ws.WebSocketServer | null = null;
  const wss = (): Ws.WebSocketServer =>
    (server ??= new (ws().WebSocketServer)({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: options.maxPayload,
      handleProtocols: (_protocols, req) => chosen.get(req) || false,
    }));

  function forward(f: WebSocketForward): void {
    if (!f.uri.startsWith("/")) return refuseUpgrade(f.socket, 400, "invalid_request", "The request is invalid");
    const target = `${f.upstream.protocol === "https:" ? "wss" : "ws"}://${f.upstream.host}${f.uri}`;
    const offered = f.raw.headers["sec-websocket-protocol"];
    const protocols = typeof offered === "string" ? offered.split(",").map((p) => p.trim()).filter((p) => p.length > 0) : [];
    let opened = false;
    const upstream = new (ws().WebSocket)(target, protocols, {
      headers: f.headers as Record<string, string>,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      followRedirects: false,
      maxPayload: options.maxPayload,
    });
    const fail = (): void => {
      if (!opened) refuseUpgrade(f.socket, 502, "bad_gateway", "The protected app did not answer");
    };
    upstream.once("unexpected-response", (_req, res) => {
      res.resume();
      upstream.terminate();
      fail();
    });
    upstream.on("error", (err) => {
      options.onError(err);
      fail();
    });
    f.socket.once("close", () => {
      if (!opened) upstream.terminate();
    });
    upstream.once("open", () => {
      opened = true;
      if (f.socket.destroyed) return upstream.terminate();
      chosen.set(f.raw, upstream.protocol);
      // Frames the upstream sends before the client side is ready wait here.
      const early: { data: RawData; binary: boolean }[] = [];
      const queue = (data: RawData, binary: boolean): void => void early.push({ data, binary });
      upstream.on("message", queue);
      wss().handleUpgrade(f.raw, f.socket, f.head, (client) => {
        upstream.off("message", queue);
        for (const m of early) client.send(m.data, { binary: m.binary });
        client.on("message", (data, binary) => {
          if (upstream.readyState === upstream.OPEN) upstream.send(data, { binary });
        });
        upstream.on("message", (data, binary) => {
          if (client.readyState === client.OPEN) client.send(data, { binary });
        });
        client.on("close", (code, reason) => relayClose(upstream, code, reason));
        upstream.on("close", (code, reason) => relayClose(client, code, reason));
        client.on("error", () => upstream.terminate());
        upstream.on("error", () => client.terminate());
        options.sockets.add({ client, upstream, request: f.request, sessionToken: f.sessionToken });
      });
    });
  }

  return {
    forward,
    close(): void {
      options.sockets.closeAll();
      server?.close();
    },
  };
}
