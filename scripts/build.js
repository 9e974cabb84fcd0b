// `npm run build`: compiles src/ to dist/ with tsc, copies the web assets and stamps the build.
// `--if-stale` (npm's prestart): does nothing when dist/ is already newer than src/ — the fast path
// of every `npm start` after the first. Concurrent builds (parallel `npm start`s) wait on one lock.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { buildState, STAMP } from "./build-state.js";

const ROOT = join(import.meta.dirname, "..");
const LOCK = join(ROOT, ".build.lock");
const ifStale = process.argv.includes("--if-stale");

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** Takes the build lock (a directory, created atomically); waits while another live process holds it. */
async function lock() {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    } catch {
      // Just created, pid not written yet: wait.
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) rmSync(LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`another build holds ${LOCK} for over 5 minutes; remove it if no build runs`);
    else await new Promise((r) => setTimeout(r, 200));
  }
}

function tscPath() {
  try {
    return createRequire(join(ROOT, "package.json")).resolve("typescript/bin/tsc");
  } catch {
    return null;
  }
}

/** Builds unless `--if-stale` finds dist/ fresh; resolves to the exit code. */
async function main() {
  if (ifStale && buildState(ROOT) === "fresh") return 0;
  await lock();
  try {
    // Another process may have built while this one waited for the lock.
    const state = buildState(ROOT);
    if (ifStale && state === "fresh") return 0;
    const tsc = tscPath();
    if (tsc === null) {
      process.stderr.write(
        `gatehouse: dist/ is ${state === "missing" ? "missing" : "older than src/"} and TypeScript is not installed (a production install, npm ci --omit=dev).\n` +
          "Build where the dev dependencies are installed (npm ci && npm run build) and ship dist/ with it.\n",
      );
      return 1;
    }
    if (ifStale) process.stderr.write(`gatehouse: compiling src/ to dist/ (${state === "missing" ? "first start" : "src/ changed"})…\n`);
    // The stamp carries the time the build started: a file saved during the build makes the next start build again.
    const started = new Date();
    const run = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
    if (run.status !== 0) return run.status ?? 1;
    cpSync(join(ROOT, "src", "web", "assets"), join(ROOT, "dist", "web", "assets"), { recursive: true });
    writeFileSync(join(ROOT, STAMP), `${started.toISOString()}\n`);
    utimesSync(join(ROOT, STAMP), started, started);
    return 0;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

process.exitCode = await main();
