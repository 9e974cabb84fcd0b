import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import type { Clock } from "../../src/core/clock.js";
import type { Backend } from "./backends.js";
import { startHarness, type Harness } from "./harness.js";

/** One request as the upstream saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** Body bytes received so far (grows while a streamed upload is in flight). */
  bytes: number;
  /** When the first body byte arrived (performance.now()), or null. */
  firstByteAt: number | null;
  done: boolean;
  websocket: boolean;
}

/** A real HTTP + WebSocket echo app on a loopback port that records everything it receives. */
export interface EchoUpstream {
  url: string;
  seen: SeenRequest[];
  /** Resolves when the next request reaches the upstream (its headers, not yet its body). */
  nextRequest(): Promise<SeenRequest>;
  close(): Promise<void>;
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const seen: SeenRequest[] = [];
  const waiters: ((s: SeenRequest) => void)[] = [];
  const record = (s: SeenRequest): void => {
    seen.push(s);
    for (const w of waiters.splice(0)) w(s);
  };
  const server: Server = createServer((req, res) => {
    const entry: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes: 0, firstByteAt: null, done: false, websocket: false };
    record(entry);
    req.on("data", (chunk: Buffer) => {
      entry.firstByteAt ??= performance.now();
      entry.bytes += chunk.length;
    });
    req.on("end", () => {
      entry.done = true;
      const body = JSON.stringify({ method: entry.method, url: entry.url, headers: entry.headers, bytes: entry.bytes });
      res.writeHead(200, { "content-type": "application/json", "set-cookie": ["app=1; Path=/", "gatehouse_session=planted; Path=/"], "x-upstream": "echo" });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    record({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes: 0, firstByteAt: null, done: true, websocket: true });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ hello: { url: req.url, headers: req.headers } }));
      ws.on("message", (data, binary) => ws.send(data, { binary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The rules of the reverse-proxy suites, on host `app.test`. */
export const APP_RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.test
      resources: ["^/public/"]
      policy: bypass
    - domain: app.test
      resources: ["^/admin"]
      subject: ["group:admin"]
      policy: one_factor
    - domain: app.test
      resources: ["^/admin"]
      policy: deny
    - domain: app.test
      policy: one_factor
`;

export const APP_HOST = "app.test";
export const APP_ORIGIN = "http://app.test";

/** A Gatehouse in reverse-proxy mode in front of an echo upstream. */
export interface ProxyHarness {
  h: Harness;
  upstream: EchoUpstream;
  rulesDir: string;
  close(): Promise<void>;
}

/** Starts an echo upstream and a Gatehouse proxying every non-portal host to it (`UPSTREAM_URL`) with {@link APP_RULES}. */
export async function startProxyHarness(backend: Backend["name"], env: Record<string, string> = {}, rules = APP_RULES, clock?: Clock): Promise<ProxyHarness> {
  const upstream = await startEchoUpstream();
  const rulesDir = mkdtempSync(join(tmpdir(), "gatehouse-rules-"));
  const file = join(rulesDir, "gatehouse.yml");
  writeFileSync(file, rules);
  let h: Harness;
  try {
    h = await startHarness(backend, { UPSTREAM_URL: upstream.url, GATEHOUSE_CONFIG: file, ...env }, clock);
  } catch (err) {
    await upstream.close();
    throw err;
  }
  return {
    h,
    upstream,
    rulesDir,
    async close() {
      await h.close();
      await upstream.close();
      rmSync(rulesDir, { recursive: true, force: true });
    },
  };
}

/** Listens on an ephemeral loopback port (for streaming and WebSocket suites); returns the base URL. */
export async function listen(h: Harness): Promise<string> {
  await h.gh.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = h.gh.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}
