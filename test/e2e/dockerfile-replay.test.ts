import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitForOutput } from "../helpers/processes.js";

/**
 * No Docker daemon runs here, so the Dockerfile's steps are replayed outside
 * a container: every stage gets a clean directory as its WORKDIR, every COPY
 * copies from the repository (or from an earlier stage's directory), every
 * RUN line must be one this replay knows (an unknown one fails the test), and
 * the image's CMD and HEALTHCHECK are run as written. Not covered: the base
 * image, the apt-get lines, the user switch and a read-only root file system
 * (the last is approximated: nothing but the data volume may change).
 */

const ROOT = join(import.meta.dirname, "..", "..");

interface Instruction {
  op: string;
  args: string;
  line: number;
}
interface Stage {
  name: string;
  instructions: Instruction[];
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith("\\")) line = `${line.slice(0, -1).trimEnd()} ${lines[++i]!.trim()}`;
    const [, op = "", args = ""] = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args: args.trim(), line: start + 1 };
    if (instruction.op === "ARG" && stages.length === 0) continue;
    if (instruction.op === "FROM") stages.push({ name: / AS (\S+)$/i.exec(instruction.args)?.[1] ?? `stage-${stages.length}`, instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

/** What the replay does with each RUN line it knows; any other RUN line fails the test. */
type RunStep = { skip: string } | { argv: string[] };
function runStep(command: string): RunStep {
  if (/^apt-get update && apt-get install -y --no-install-recommends [a-z0-9+ -]+ && rm -rf \/var\/lib\/apt\/lists\/\*$/.test(command))
    return { skip: "system packages (the machine has its own compilers and Node headers)" };
  if (command === "mkdir -p /data && chown node:node /data") return { skip: "the data volume is a temp directory owned by the test's user" };
  const ci = /^npm ci((?: --[a-z=-]+)*)$/.exec(command);
  // --prefer-offline: the local npm cache first (the registry is reachable for anything missing).
  if (ci) return { argv: ["npm", "ci", ...ci[1]!.trim().split(/\s+/).filter(Boolean), "--prefer-offline"] };
  if (command === "npm run build") return { argv: ["npm", "run", "build"] };
  throw new Error(`the Dockerfile has a RUN line this replay does not know: ${command}`);
}

/** `["a", "b"]` (exec form) or `a b` (shell form, split on spaces). */
const execForm = (args: string): string[] => (args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/));

interface Replay {
  dirs: Map<string, string>;
  runLines: string[];
  skipped: string[];
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
  user: string | null;
  volumes: string[];
  stepMs: Record<string, number>;
}

/**
 * better-sqlite3's prebuilt binary, which `npm ci` downloads from GitHub
 * during a real image build, packed from the installed copy in prebuild
 * form: GitHub is unreachable here, and compiling SQLite from source twice
 * would take most of ten minutes on this machine. Its install script
 * (prebuild-install) finds it through `npm_config_better_sqlite3_local_prebuilds`.
 */
function localPrebuilds(base: string): Record<string, string> {
  const dir = join(base, "prebuilds");
  mkdirSync(dir);
  const pkg = join(ROOT, "node_modules", "better-sqlite3");
  const { version } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string };
  const file = join(dir, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
  const tar = spawnSync("tar", ["-czf", file, "-C", pkg, "build/Release/better_sqlite3.node"], { encoding: "utf8" });
  expect(tar.status, tar.stderr).toBe(0);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

/** Replays every stage in `base`; returns where each stage's WORKDIR is and what the final image would run. */
function replay(stages: Stage[], base: string): Replay {
  const runEnv = { ...process.env, CI: "true", ...localPrebuilds(base) };
  const r: Replay = { dirs: new Map(), runLines: [], skipped: [], env: {}, cmd: [], healthcheck: [], user: null, volumes: [], stepMs: {} };
  for (const [index, stage] of stages.entries()) {
    const dir = join(base, stage.name);
    mkdirSync(dir, { recursive: true });
    r.dirs.set(stage.name, dir);
    const final = index === stages.length - 1;
    for (const { op, args, line } of stage.instructions) {
      if (op === "WORKDIR") {
        expect(args, `line ${line}: one WORKDIR per stage, /app`).toBe("/app");
      } else if (op === "COPY") {
        const parts = args.split(/\s+/);
        const from = parts[0]!.startsWith("--from=") ? parts.shift()!.slice("--from=".length) : null;
        const dest = parts.pop()!;
        for (const source of parts) {
          const origin = from === null ? join(ROOT, source) : join(r.dirs.get(from) ?? "", source.replace(/^\/app\//, ""));
          expect(existsSync(origin), `line ${line}: COPY source ${source}`).toBe(true);
          const target = dest.endsWith("/") ? join(dir, dest, source.replace(/^\/app\//, "").split("/").pop()!) : join(dir, dest);
          mkdirSync(dirname(target), { recursive: true });
          // node_modules may be a symlink in a worktree: copy what it points to.
          cpSync(origin, target, { recursive: true, dereference: true });
        }
      } else if (op === "RUN") {
        r.runLines.push(args);
        const step = runStep(args);
        if ("skip" in step) {
          r.skipped.push(`${stage.name}: ${args} (${step.skip})`);
          continue;
        }
        const t0 = performance.now();
        const run = spawnSync(step.argv[0]!, step.argv.slice(1), { cwd: dir, encoding: "utf8", env: runEnv, timeout: 170_000 });
        r.stepMs[`${stage.name}: ${args}`] = Math.round(performance.now() - t0);
        expect(run.status, `line ${line}: ${args}\n${run.stdout}\n${run.stderr}`).toBe(0);
      } else if (final && op === "ENV") {
        for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) r.env[k!] = v!;
      } else if (final && op === "CMD") r.cmd = execForm(args);
      else if (final && op === "HEALTHCHECK") r.healthcheck = execForm(args.slice(args.indexOf("CMD ") + 4));
      else if (final && op === "USER") r.user = args;
      else if (final && op === "VOLUME") r.volumes = execForm(args);
      else if (!["EXPOSE", "STOPSIGNAL", "ENV", "ARG"].includes(op)) throw new Error(`line ${line}: instruction ${op} is not replayed`);
    }
  }
  return r;
}

/** Every file under `dir` with its size and mtime, node_modules included. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(p, `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out;
}

describe("the Dockerfile, replayed in clean directories (no Docker daemon here)", () => {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const stages = parseDockerfile(dockerfile);
  let base: string;
  let r: Replay;
  let app: string;
  let volume: string;
  let child: ChildProcess | undefined;
  let origin: string;
  let before: Map<string, string>;
  const started = performance.now();

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), "gatehouse-docker-replay-"));
    r = replay(stages, base);
    app = r.dirs.get(stages.at(-1)!.name)!;
    volume = join(base, "volume");
    mkdirSync(volume);
    before = snapshot(app);
  }, 200_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    rmSync(base, { recursive: true, force: true });
    console.log(`dockerfile replay: ${Math.round((performance.now() - started) / 1000)} s`, r?.stepMs);
  });

  it("replays exactly the RUN lines of the file: a build stage, a production-dependency stage and a runtime stage that runs as a non-root user", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", "runtime-deps", "stage-2"]);
    expect(r.runLines).toEqual([...dockerfile.matchAll(/^RUN (.*)$/gm)].map((m) => m[1]));
    expect(r.runLines).toContain("npm ci --omit=dev --no-audit --no-fund");
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\}$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(r.user).toBe("node");
    expect(r.volumes).toEqual([r.env.GATEHOUSE_DATA_DIR]);
    expect(r.cmd).toEqual(["node", "dist/main.js"]);
    expect(r.healthcheck[0]).toBe("node");
    const instructions = dockerfile.split("\n").filter((l) => !l.trimStart().startsWith("#")).join("\n");
    expect(instructions).not.toMatch(/curl|wget/);
  });

  it("the runtime directory holds compiled JavaScript and production dependencies only: no source, TypeScript, tsx or test tools", () => {
    expect(existsSync(join(app, "dist", "main.js"))).toBe(true);
    expect(existsSync(join(app, "src"))).toBe(false);
    for (const dev of ["typescript", "tsx", "vitest", "esbuild", "eslint"]) expect(existsSync(join(app, "node_modules", dev)), dev).toBe(false);
    for (const runtime of ["fastify", "better-sqlite3", "@node-rs/argon2", "pg", "ioredis"]) expect(existsSync(join(app, "node_modules", runtime)), runtime).toBe(true);
  });

  it("CMD starts in production mode with the data dir on a volume; the HEALTHCHECK command passes; a seeded admin signs in; SIGTERM exits 0", async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    writeFileSync(join(base, "secret_key"), "c2b7e0f4a9d6135e8b0f7a2c4d6e8f01a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2\n", { mode: 0o400 });
    writeFileSync(join(base, "admin_password"), "harbor-violet-quarry-58\n", { mode: 0o400 });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      // Nothing to write in a home directory either.
      HOME: join(base, "no-home"),
      ...r.env,
      // The container's paths and port, mapped onto the test machine.
      GATEHOUSE_DATA_DIR: volume,
      PORT: String(port),
      HOST: "127.0.0.1",
      // What compose.yaml passes in, with plain http on loopback instead of the https origin of a real deployment.
      PUBLIC_URL: origin,
      GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
      SECRET_KEY_FILE: join(base, "secret_key"),
      GATEHOUSE_ADMIN_USERNAME: "replay-admin",
      GATEHOUSE_ADMIN_PASSWORD_FILE: join(base, "admin_password"),
    };
    expect(r.env.NODE_ENV).toBe("production");
    child = spawn(r.cmd[0] === "node" ? process.execPath : r.cmd[0]!, r.cmd.slice(1), { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = await waitForOutput(child, "Gatehouse is running", 30_000);
    child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    expect(output).toContain('"database":"sqlite"');

    const health = spawnSync(r.healthcheck[0] === "node" ? process.execPath : r.healthcheck[0]!, r.healthcheck.slice(1), { env: { PATH: process.env.PATH, PORT: String(port) }, timeout: 10_000 });
    expect(health.status, health.stderr?.toString()).toBe(0);

    const login = await fetch(`${origin}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ username: "replay-admin", password: "harbor-violet-quarry-58" }),
    });
    expect(login.status, await login.clone().text()).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const me = await fetch(`${origin}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { username: string; role: string } }).user).toMatchObject({ username: "replay-admin", role: "superadmin" });

    const exited = new Promise<number | null>((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited, output).toBe(0);
    expect(output).toContain('"msg":"shut down"');
    expect(readdirSync(volume)).toContain("gatehouse.db");
  });

  it("read-only root file system, approximated: the run changed nothing outside the data volume", () => {
    const after = snapshot(app);
    const changed = [...after].filter(([p, v]) => before.get(p) !== v).map(([p]) => p);
    const added = [...after.keys()].filter((p) => !before.has(p));
    expect([...changed, ...added]).toEqual([]);
    expect(existsSync(join(base, "no-home"))).toBe(false);
  });
});
