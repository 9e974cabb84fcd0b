import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

export const ROOT = join(import.meta.dirname, "..", "..");
// One build per run (removed when the run exits), so concurrent runs never share one.
const OUT = join(ROOT, "bench", ".build", String(process.pid));
/** `BENCH_CPU_PROF=<dir>`: every bench server writes a V8 CPU profile there when it stops (read it with bench/profile-summary.ts). */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
// Servers still running when the run ends or is interrupted are stopped with it.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(OUT, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
const SERVERS = ["bare-fastify", "gatehouse", "bare-proxy", "upstream", "better-auth", "argon2-verify", "seed-sessions", "login-flood"] as const;
export type ServerName = (typeof SERVERS)[number];

/**
 * Compiles bench/servers/*.ts and the Gatehouse source (every file of src/,
 * one output file per input, files that are not TypeScript copied alongside
 * for code that reads them through import.meta.url) into plain ESM under
 * bench/.build, so every server under test runs on bare `node` — no
 * TypeScript loader in the process whose speed and RSS we measure.
 */
export async function buildServers(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const files = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
  const sources = files("src");
  await build({
    entryPoints: [...SERVERS.map((s) => join(ROOT, "bench", "servers", `${s}.ts`)), ...sources.filter((f) => f.endsWith(".ts")).map((f) => join(ROOT, f))],
    outdir: OUT,
    outbase: ROOT,
    bundle: false,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error",
  });
  for (const f of sources.filter((f) => !f.endsWith(".ts"))) {
    mkdirSync(dirname(join(OUT, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(OUT, f));
  }
}

/** What a server prints on its READY line. */
export interface Ready {
  port: number;
  cookie?: string;
  loginUsers?: string[];
  password?: string;
}

export interface Running {
  child: ChildProcess;
  ready: Ready;
  url(path: string): string;
  rssMb(): number;
  stop(): Promise<void>;
}

/** Reads the resident set size of a process from /proc, in MB. */
export function rssMbOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** Runs a bundled script to completion and returns the lines it printed. */
export async function runScript(name: ServerName, env: Record<string, string>, timeoutMs = 600_000): Promise<string[]> {
  const child = spawn(process.execPath, [...PROFILE_ARGS, join(OUT, "bench", "servers", `${name}.js`)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${name} exited with ${code}: ${err.trim().split("\n").slice(-8).join("\n")}`);
  return out.split("\n").filter(Boolean);
}

/** Starts a bundled server in its own process and waits for its READY line. */
export async function startServer(name: ServerName, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Running> {
  const child = spawn(process.execPath, [...PROFILE_ARGS, join(OUT, "bench", "servers", `${name}.js`)], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs / 1000}s: ${err.trim()}`));
    }, timeoutMs);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("READY "));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(6)) as Ready);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready: ${err.trim().split("\n").slice(-8).join("\n")}`));
    });
  });
  return {
    child,
    ready,
    url: (path) => `http://127.0.0.1:${ready.port}${path}`,
    rssMb: () => rssMbOf(child.pid!),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts a server, runs `body`, always stops it. */
export async function withServer<T>(name: ServerName, env: Record<string, string>, body: (s: Running) => Promise<T>): Promise<T> {
  const server = await startServer(name, env);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}
