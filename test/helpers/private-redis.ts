import { spawn } from "node:child_process";
import { Redis } from "ioredis";
import { findBinary } from "./proxies/binaries.js";
import { freePort } from "./processes.js";

/** A redis-server of this test's own, on a random loopback port, with no persistence. */
export interface PrivateRedis {
  url: string;
  /** A client connected to it. */
  client: Redis;
  /** Sets maxmemory to what is used now plus `headroomBytes`, so the server is full after about that much more data. */
  limitTo(headroomBytes: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a private redis-server (its settings, e.g. `maxmemory-policy`, are
 * this test's alone: the shared server is never reconfigured). A missing
 * binary fails the test, like a missing shared Redis (test/helpers/backends.ts).
 */
export async function startPrivateRedis(maxmemoryPolicy: string, extraArgs: string[] = []): Promise<PrivateRedis> {
  const bin = findBinary("redis-server");
  if (!bin) throw new Error("redis-server is not installed (apt-get install -y redis-server); the Redis limiter suites need it");
  const port = await freePort();
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", maxmemoryPolicy, ...extraArgs], { stdio: "ignore" });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused connections while the server starts are retried below; failures surface as rejected commands.
  client.on("error", () => undefined);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (err) {
      client.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill("SIGKILL");
        throw new Error("private redis-server did not start", { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    client,
    async limitTo(headroomBytes) {
      const info = await client.info("memory");
      const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
      await client.config("SET", "maxmemory", String(used + headroomBytes));
    },
    async stop() {
      client.disconnect();
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
