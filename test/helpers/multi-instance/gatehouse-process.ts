import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../run-gatehouse.js";
import { waitForOutput } from "../processes.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

/** One real Gatehouse server process (`node --import tsx src/main.ts`, as `npm start` runs it). */
export interface GatehouseProcess {
  name: string;
  port: number;
  /** `http://127.0.0.1:<port>`: the instance itself, bypassing the balancer. */
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** `kill -9`: no shutdown, no draining, in-flight requests cut. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), then removes its data dir. */
  stop(): Promise<void>;
}

/**
 * Starts one instance on `port` with `env` (plus PORT, HOST, its own data dir)
 * and resolves once it says it is running. Each instance has its own data
 * dir, like a separate host: everything shared goes through PostgreSQL and Redis.
 */
export async function startGatehouseProcess(name: string, port: number, env: Record<string, string>): Promise<GatehouseProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), `gatehouse-${name}-`));
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: cleanEnv({ ...env, PORT: String(port), HOST: "127.0.0.1", GATEHOUSE_DATA_DIR: dataDir }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await closed;
  };
  try {
    await waitForOutput(child, "Gatehouse is running", 40_000);
  } catch (err) {
    await end("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    kill9: () => end("SIGKILL"),
    async stop() {
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await end("SIGTERM");
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
