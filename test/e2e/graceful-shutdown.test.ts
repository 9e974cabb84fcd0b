import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { freePort, waitForOutput } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const APP_HOST = "app.test";
const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: ${APP_HOST}
      policy: bypass
`;

/** The app behind Gatehouse: `/slow` answers after `SLOW_MS`, `/hang` never; every WebSocket is accepted and kept open. */
const SLOW_MS = 1_500;
interface Upstream {
  url: string;
  /** Resolves when the upstream receives a request for `path`. */
  arrived(path: string): Promise<void>;
  close(): Promise<void>;
}
async function startUpstream(): Promise<Upstream> {
  const waiting = new Map<string, () => void>();
  const hanging: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    waiting.get(req.url ?? "")?.();
    if (req.url === "/slow") setTimeout(() => res.end("slow done"), SLOW_MS);
    else if (req.url === "/hang") hanging.push(req);
    else res.end("ok");
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws) => ws.send("hello"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived: (path) => new Promise<void>((r) => waiting.set(path, r)),
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      for (const req of hanging) req.socket.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Running {
  child: ChildProcess;
  port: number;
  output(): string;
  /** Exit code and when the process was gone (performance.now()). */
  exited: Promise<{ code: number | null; at: number }>;
}

/** `node dist/main.js` (what `npm start` and the container run) in reverse-proxy mode in front of `upstream`. */
async function startGatehouse(upstream: Upstream, dir: string, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const rules = join(dir, "rules.yml");
  writeFileSync(rules, RULES);
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GATEHOUSE_DATA_DIR: join(dir, `data-${port}`),
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      UPSTREAM_URL: upstream.url,
      GATEHOUSE_CONFIG: rules,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((r) => child.once("exit", (code) => r({ code, at: performance.now() })));
  await waitForOutput(child, "Gatehouse is running", 30_000);
  return { child, port, output: () => out, exited };
}

/** A GET on the proxied host through its own keep-alive connection; resolves with the status and body. */
function proxiedGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host: APP_HOST }, agent: new Agent({ keepAlive: true }) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Resolves with the error code of a new TCP connection to `port` ("connected" if it was accepted). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("graceful shutdown of the real process (node dist/main.js)", () => {
  let upstream: Upstream;
  let dir: string;
  const started: ChildProcess[] = [];

  beforeAll(() => {
    // The compiled server, built if src/ changed since the last build (what `npm start` does first).
    const build = spawnSync(process.execPath, ["scripts/build.js", "--if-stale"], { cwd: ROOT, encoding: "utf8", timeout: 170_000 });
    expect(build.status, build.stderr).toBe(0);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-shutdown-"));
  }, 180_000);

  beforeAll(async () => {
    upstream = await startUpstream();
  });

  afterAll(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("SIGTERM: a slow request in flight completes with 200, new connections are refused, a proxied WebSocket gets 1001, exit 0 well within SHUTDOWN_TIMEOUT", async () => {
    const g = await startGatehouse(upstream, dir, { SHUTDOWN_TIMEOUT: "8s" });
    started.push(g.child);

    const ws = new WebSocket(`ws://127.0.0.1:${g.port}/socket`, { headers: { host: APP_HOST } });
    const wsClosed = new Promise<{ code: number; at: number }>((r) => ws.once("close", (code) => r({ code, at: performance.now() })));
    await new Promise((r) => ws.once("message", r));

    const slowArrived = upstream.arrived("/slow");
    const slow = proxiedGet(g.port, "/slow");
    await slowArrived;

    const t0 = performance.now();
    g.child.kill("SIGTERM");
    const closed = await wsClosed;
    expect(closed.code).toBe(1001);
    expect(closed.at - t0).toBeLessThan(1_000);

    // While the slow request is still being served, the listening socket is gone.
    await new Promise((r) => setTimeout(r, 300));
    expect(await tryConnect(g.port)).toBe("ECONNREFUSED");
    expect(g.child.exitCode).toBeNull();

    expect(await slow).toEqual({ status: 200, body: "slow done" });
    const { code, at } = await g.exited;
    expect(code, g.output()).toBe(0);
    // Exits once the request is done (its keep-alive connection is not waited for), far inside the 8 s deadline.
    expect(at - t0).toBeLessThan(SLOW_MS + 2_000);
    expect(g.output()).toContain('"msg":"shutting down"');
    expect(g.output()).toContain('"msg":"shut down"');
    expect(g.output()).not.toContain("deadline passed");
  });

  it("a request still running at SHUTDOWN_TIMEOUT is cut and the process still exits 0 after closing the database", async () => {
    const g = await startGatehouse(upstream, dir, { SHUTDOWN_TIMEOUT: "1s" });
    started.push(g.child);
    const arrived = upstream.arrived("/hang");
    const hang = proxiedGet(g.port, "/hang").catch((err: NodeJS.ErrnoException) => err.code ?? err.message);
    await arrived;
    const t0 = performance.now();
    g.child.kill("SIGTERM");
    const { code, at } = await g.exited;
    expect(code, g.output()).toBe(0);
    expect(at - t0).toBeGreaterThanOrEqual(900);
    expect(at - t0).toBeLessThan(4_000);
    expect(await hang).toBe("ECONNRESET");
    expect(g.output()).toContain("shutdown deadline passed");
  });

  it("a second signal (more than a second after the first) exits at once; a repeat within the second (npm forwarding Ctrl-C) does not", async () => {
    const g = await startGatehouse(upstream, dir, { SHUTDOWN_TIMEOUT: "30s" });
    started.push(g.child);
    const arrived = upstream.arrived("/hang");
    const hang = proxiedGet(g.port, "/hang").catch(() => "cut");
    await arrived;
    g.child.kill("SIGINT");
    g.child.kill("SIGINT");
    await new Promise((r) => setTimeout(r, 1_300));
    expect(g.child.exitCode, g.output()).toBeNull();
    const t0 = performance.now();
    g.child.kill("SIGTERM");
    const { code, at } = await g.exited;
    expect(code).toBe(143);
    expect(at - t0).toBeLessThan(1_000);
    expect(g.output()).toContain("second signal: exiting at once");
    await hang;
  });
});
