import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForTls } from "./client.js";

/** A proxy we started for one suite: its TLS port and a way to read its logs. */
export interface RunningProxy {
  kind: "nginx" | "caddy";
  /** The HTTPS port on 127.0.0.1. */
  port: number;
  dir: string;
  /** Everything the proxy logged, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** A fresh temp directory the proxy's unprivileged workers can traverse. */
export function proxyTempDir(kind: string): string {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${kind}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** A self-signed certificate for example.com and *.example.com (for nginx; Caddy issues its own). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, "fullchain.pem");
  const key = join(dir, "privkey.pem");
  const res = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=example.com", "-addext", "subjectAltName=DNS:example.com,DNS:*.example.com"],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`openssl could not make a test certificate: ${res.error?.message ?? res.stderr}`);
  return { cert, key };
}

/**
 * Spawns a proxy in the foreground and waits until it answers TLS on `port`
 * for `host`. Output goes to `logFile` (read back on failure).
 */
export async function spawnProxy(
  kind: RunningProxy["kind"],
  bin: string,
  args: string[],
  opts: { dir: string; port: number; host: string; env?: Record<string, string>; logFiles: string[] },
): Promise<RunningProxy> {
  let output = "";
  const child: ChildProcess = spawn(bin, args, { cwd: opts.dir, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  let exited: string | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exited = `${kind} exited (${code ?? signal})`;
      resolve();
    });
    child.on("error", (err) => {
      exited = `${kind} could not start: ${err.message}`;
      resolve();
    });
  });
  const logs = () =>
    [output, ...opts.logFiles.filter((f) => existsSync(f)).map((f) => `--- ${f}\n${readFileSync(f, "utf8")}`)].join("\n").slice(-20_000);
  const stop = async () => {
    if (exited === null && child.pid !== undefined) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    rmSync(opts.dir, { recursive: true, force: true });
  };
  try {
    await waitForTls(opts.port, opts.host, () => (exited ? `${exited}:\n${logs()}` : null));
  } catch (err) {
    await stop();
    throw err;
  }
  return { kind, port: opts.port, dir: opts.dir, logs, stop };
}
