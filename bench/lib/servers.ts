import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { setPriority, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import { pinned, type Placement } from "./cores.js";

export const ROOT = join(import.meta.dirname, "..", "..");
// One build per run (removed when the run exits), so concurrent runs never share one.
export const OUT = join(ROOT, "bench", ".build", String(process.pid));
/** `BENCH_CPU_PROF=<dir>`: every bench server writes a V8 CPU profile there when it stops (read it with bench/profile-summary.ts). */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
// Servers still running when the run ends or is interrupted are stopped with it.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(OUT, { recursive: true, force: true });
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
const SERVERS = ["bare-fastify", "gatehouse", "bare-proxy", "upstream", "better-auth", "argon2-verify", "seed-sessions", "login-flood", "minimal-lookup", "ladder"] as const;
export type ServerName = (typeof SERVERS)[number];

let place: Placement = { server: null, load: null, describe: "unpinned" };
/** Sets where the run's processes go (bench/lib/cores.ts); servers started afterwards follow it. */
export function usePlacement(p: Placement): void {
  place = p;
}
/** Where the run's processes go. */
export function currentPlacement(): Placement {
  return place;
}

/** Starts `argv` on the given role's core: a server under test, a load generator (optionally at the lowest priority), or unpinned. */
export function spawnOn(role: "server" | "load" | "none", argv: string[], options: Parameters<typeof spawn>[2] & { lowPriority?: boolean }): ChildProcess {
  const core = role === "server" ? place.server : role === "load" ? place.load : null;
  const [cmd, args] = pinned(core, argv);
  const child = spawn(cmd, args, options);
  // `taskset` execs the command, so the pid is the node process's own (its /proc figures are the server's).
  if (options.lowPriority && child.pid) setPriority(child.pid, 19);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

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
    entryPoints: [
      ...SERVERS.map((s) => join(ROOT, "bench", "servers", `${s}.ts`)),
      join(ROOT, "bench", "lib", "load-process.ts"),
      join(ROOT, "bench", "lib", "ladder-app.ts"),
      ...sources.filter((f) => f.endsWith(".ts")).map((f) => join(ROOT, f))],
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
  /** Users with a confirmed authenticator app and their base32 secrets (BENCH_TOTP_USERS). */
  totpUsers?: { username: string; secret: string }[];
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

/** Where a script runs: on the server core (a baseline measured like a server), as a load generator, or anywhere. */
export interface ScriptPlace {
  role: "server" | "load" | "none";
  /** Nice 19: a load generator that must never delay the measured client on the same core. */
  lowPriority?: boolean;
}

/** Runs a bundled script to completion and returns the lines it printed. */
export async function runScript(name: ServerName, env: Record<string, string>, where: ScriptPlace = { role: "none" }, timeoutMs = 600_000): Promise<string[]> {
  const child = spawnOn(where.role, [process.execPath, ...PROFILE_ARGS, join(OUT, "bench", "servers", `${name}.js`)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    ...(where.lowPriority ? { lowPriority: true } : {}),
  });
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

/** Starts a bundled server in its own process, on the server core, and waits for its READY line. */
export function startServer(name: ServerName, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Running> {
  return launch(name, [process.execPath, ...PROFILE_ARGS, join(OUT, "bench", "servers", `${name}.js`)], { ...process.env, ...env }, ROOT, timeoutMs, (out) => {
    const line = out.split("\n").find((l) => l.startsWith("READY "));
    return line ? (JSON.parse(line.slice(6)) as Ready) : undefined;
  });
}

async function launch(name: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number, readyIn: (out: string) => Ready | undefined): Promise<Running> {
  const child = spawnOn("server", argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-4000);
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    let out = "";
    let done = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs / 1000}s: ${err.trim()}`));
    }, timeoutMs);
    child.stdout!.on("data", (c: Buffer) => {
      if (done) return; // later output (a server's log lines) is read and dropped
      out += c.toString();
      const found = readyIn(out);
      if (found) {
        done = true;
        clearTimeout(timer);
        resolve(found);
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

const PRODUCTION = join(OUT, "production");

/**
 * Builds Gatehouse exactly as docs/deployment.md has production run it:
 * `npm run build` (tsc -p tsconfig.build.json, then the web assets copied
 * alongside), here into bench/.build/<pid>/production/dist (inside the
 * repository, so the packages resolve from its node_modules). Once per run.
 */
let productionBuilt: Promise<void> | null = null;
export function buildProduction(): Promise<void> {
  productionBuilt ??= new Promise<void>((resolve, reject) => {
    const tsc = spawn(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json", "--outDir", join(PRODUCTION, "dist")], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    tsc.stdout.on("data", (c: Buffer) => (out += c.toString()));
    tsc.stderr.on("data", (c: Buffer) => (out += c.toString()));
    tsc.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`tsc -p tsconfig.build.json failed (${code}): ${out.slice(0, 1000)}`));
      cpSync(join(ROOT, "src", "web", "assets"), join(PRODUCTION, "dist", "web", "assets"), { recursive: true });
      resolve();
    });
  });
  return productionBuilt;
}

/** A free TCP port on 127.0.0.1 (for a process that must be told its port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const a = probe.address();
      probe.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
    probe.on("error", reject);
  });
}

/**
 * Starts the production build as production runs it — `node dist/main.js`,
 * NODE_ENV=production, logs to stdout (read and dropped here) — on the server
 * core, in an empty working directory (no `.env`), and waits for its
 * "Gatehouse is running" line.
 */
export async function startProduction(env: Record<string, string>): Promise<Running> {
  await buildProduction();
  const port = await freePort();
  const cwd = mkdtempSync(join(tmpdir(), "gatehouse-bench-prod-"));
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    GATEHOUSE_DATA_DIR: cwd,
    ...env,
  };
  const running = await launch("node dist/main.js", [process.execPath, ...PROFILE_ARGS, join(PRODUCTION, "dist", "main.js")], childEnv, cwd, 120_000, (out) =>
    out.includes('"msg":"Gatehouse is running') ? { port } : undefined,
  );
  return {
    ...running,
    stop: async () => {
      await running.stop();
      rmSync(cwd, { recursive: true, force: true });
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
