import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { findBinary } from "../proxies/binaries.js";
import { freePort } from "../processes.js";

/** A redis-server or redis-sentinel of this suite's own, on a fixed loopback port, that can be stopped and started again there. */
export interface RedisNode {
  port: number;
  url: string;
  /** A fresh client (the caller disconnects it). */
  client(): Redis;
  /** SIGKILL when `hard`, else SIGTERM; resolves once the process is gone. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port with the same arguments (if it is not running); resolves once it answers PING. */
  start(): Promise<void>;
  /** What it printed (the last run), for failure messages. */
  output(): string;
}

/**
 * The binary, or an error: the multi-instance suite always runs under
 * CI=true (a missing binary fails it; .ci/run installs both).
 */
export function redisBinary(name: "redis-server" | "redis-sentinel"): string {
  const bin = findBinary(name);
  if (!bin) throw new Error(`${name} is not installed (apt-get install -y ${name}); the multi-instance suite needs it`);
  return bin;
}

/** The name the suite's own connections carry, so that `appClients` can leave them out. */
const TEST_CONNECTION = "gatehouse-test";

/**
 * How many connections `node` has from applications (Gatehouse): normal
 * clients that are not a sentinel's, a replica's or this suite's own.
 */
export async function appClients(node: RedisNode): Promise<number> {
  const c = node.client();
  try {
    const list = (await c.client("LIST")) as string;
    return list
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => Object.fromEntries(line.split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)])) as Record<string, string>)
      .filter((f) => f.flags === "N" && f.name !== TEST_CONNECTION && !(f.name ?? "").startsWith("sentinel-")).length;
  } finally {
    c.disconnect();
  }
}

async function answersPing(port: number): Promise<boolean> {
  const c = new Redis({ host: "127.0.0.1", port, lazyConnect: true, connectionName: TEST_CONNECTION, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  c.on("error", () => undefined);
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/**
 * Starts `bin` with `args(port)` on a free port (or `port`). The arguments
 * are built again on every start, so a config file may be rewritten.
 */
export async function startRedisNode(bin: string, args: (port: number) => string[], port?: number): Promise<RedisNode> {
  const p = port ?? (await freePort());
  let child: ChildProcess | null = null;
  let out = "";
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    // Already running: nothing to do (a second process could not bind the port anyway).
    if (child && child.exitCode === null && child.signalCode === null) return;
    out = "";
    // Run from the temp dir: a replica's full sync writes an RDB file into its working directory.
    const proc = spawn(bin, args(p), { cwd: tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(p))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`${bin} did not start on ${p}:\n${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    client: () => new Redis({ host: "127.0.0.1", port: p, maxRetriesPerRequest: 1, connectionName: TEST_CONNECTION }),
    async stop(hard = false) {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(hard ? "SIGKILL" : "SIGTERM");
      await exited;
    },
    start,
    output: () => out,
  };
}

/** A plain redis-server as Gatehouse should run it: loopback, `noeviction`, no persistence (a test's data is throwaway). */
export function startRedisServer(extra: string[] = []): Promise<RedisNode> {
  const bin = redisBinary("redis-server");
  return startRedisNode(bin, (port) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction", ...extra]);
}

/** A primary, one replica and three sentinels watching it under `name`. */
export interface SentinelGroup {
  name: string;
  primary: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  /** `redis-sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/<name>`. */
  url: string;
  /** The primary's port, as the sentinels see it now. */
  primaryPort(): Promise<number>;
  /** `SENTINEL FAILOVER <name>`; resolves once the sentinels name the other node and it says it is a master. */
  failover(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

const QUORUM = 2;

/**
 * Starts the group and waits until every sentinel knows the replica (a
 * failover needs one) and sees the other sentinels. Sentinels rewrite their
 * config file, so each gets its own in a temp dir.
 */
export async function startSentinelGroup(name = "mymaster"): Promise<SentinelGroup> {
  const server = redisBinary("redis-server");
  const sentinelBin = redisBinary("redis-sentinel");
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-sentinel-"));
  const nodes: RedisNode[] = [];
  try {
    // The replica's full sync goes through an RDB file: in this group's dir, one name per node.
    const base = (port: number) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction", "--dir", dir, "--dbfilename", `dump-${port}.rdb`];
    const primary = await startRedisNode(server, base);
    nodes.push(primary);
    const replica = await startRedisNode(server, (port) => [...base(port), "--replicaof", "127.0.0.1", String(primary.port)]);
    nodes.push(replica);
    const sentinels: RedisNode[] = [];
    for (let i = 0; i < 3; i++) {
      const conf = join(dir, `sentinel-${i}.conf`);
      const node = await startRedisNode(sentinelBin, (port) => {
        writeFileSync(
          conf,
          [
            `port ${port}`,
            "bind 127.0.0.1",
            `dir ${dir}`,
            `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${QUORUM}`,
            `sentinel down-after-milliseconds ${name} 1000`,
            `sentinel failover-timeout ${name} 10000`,
            `sentinel parallel-syncs ${name} 1`,
            "",
          ].join("\n"),
        );
        return [conf];
      });
      sentinels.push(node);
      nodes.push(node);
    }
    const ask = async <T>(node: RedisNode, ...args: string[]): Promise<T> => {
      const c = node.client();
      try {
        return (await c.call("SENTINEL", ...args)) as T;
      } finally {
        c.disconnect();
      }
    };
    const primaryPort = async () => Number((await ask<string[]>(sentinels[0]!, "get-master-addr-by-name", name))[1]);
    const ready = async () => {
      for (const s of sentinels) {
        const replicas = await ask<string[][]>(s, "replicas", name);
        const fields = replicas.map((r) => Object.fromEntries(r.flatMap((_, i) => (i % 2 === 0 ? [[r[i], r[i + 1]]] : []))) as Record<string, string>);
        if (!fields.some((f) => f["master-link-status"] === "ok" && !/s_down|o_down|disconnected/.test(f.flags ?? ""))) return false;
        const master = await ask<string[]>(s, "master", name);
        const info = Object.fromEntries(master.flatMap((_, i) => (i % 2 === 0 ? [[master[i], master[i + 1]]] : []))) as Record<string, string>;
        if (Number(info["num-other-sentinels"]) < sentinels.length - 1) return false;
      }
      return true;
    };
    const deadline = Date.now() + 20_000;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error("the sentinels did not see the replica and each other within 20 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      name,
      primary,
      replica,
      sentinels,
      url: `redis-sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(",")}/${name}`,
      primaryPort,
      async failover() {
        const from = await primaryPort();
        const until = Date.now() + 20_000;
        // NOGOODSLAVE / INPROG right after a start: ask again.
        for (;;) {
          try {
            await ask(sentinels[0]!, "failover", name);
            break;
          } catch (err) {
            if (Date.now() > until) throw err;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        for (;;) {
          const to = await primaryPort();
          if (to !== from) {
            const node = to === primary.port ? primary : replica;
            const c = node.client();
            try {
              const role = (await c.call("ROLE")) as unknown[];
              if (role[0] === "master") return { from, to };
            } finally {
              c.disconnect();
            }
          }
          if (Date.now() > until) throw new Error(`no failover within 20 s (primary still on ${from})`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async stop() {
        for (const n of nodes.reverse()) await n.stop(true);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    for (const n of nodes.reverse()) await n.stop(true);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
