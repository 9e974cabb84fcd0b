import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An answer read over a real socket. */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request over a real socket with any headers (Host included, which fetch cannot set). */
export function httpGet(port: number, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** How the relay in front of Gatehouse behaves: relays, drops the connection, never answers, or answers 500. */
export type RelayMode = "pass" | "down" | "hang" | "error";

/**
 * A counting HTTP relay in front of a listening Gatehouse: the middleware's
 * Gatehouse URL. It counts forward-auth calls, records the last Cookie header
 * it relayed, and can play a Gatehouse that is down, hangs or fails. `addHeaders`
 * are added to every relayed answer (e.g. a `Remote-JWT`).
 */
export interface CountingRelay {
  url: string;
  calls(): number;
  lastCookie(): string | undefined;
  mode: RelayMode;
  addHeaders: Record<string, string>;
  /** Holds every forward-auth call until the returned function is called (requests are still counted on arrival). */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startCountingRelay(gatehousePort: number): Promise<CountingRelay> {
  let calls = 0;
  let lastCookie: string | undefined;
  let gate: Promise<void> | null = null;
  const hanging = new Set<import("node:http").ServerResponse>();
  const relay: CountingRelay = {
    url: "",
    calls: () => calls,
    lastCookie: () => lastCookie,
    mode: "pass",
    addHeaders: {},
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = null;
        release();
      };
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith("/api/authz/forward-auth")) calls++;
    lastCookie = req.headers.cookie;
    if (relay.mode === "down") return req.socket.destroy();
    if (relay.mode === "hang") return void hanging.add(res);
    if (relay.mode === "error") return void res.writeHead(500, { "content-type": "application/json" }).end('{"error":"An internal error occurred","code":"internal"}');
    if (gate !== null) return void gate.then(() => forward(req, res));
    forward(req, res);
  });
  const forward = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const upstream = httpRequest({ host: "127.0.0.1", port: gatehousePort, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...relay.addHeaders });
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return relay;
}
