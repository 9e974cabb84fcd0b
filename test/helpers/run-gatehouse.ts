import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
export const BIN = join(ROOT, "bin", "gatehouse.js");

/** The result of one `gatehouse` run. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment: PATH and HOME only, plus `env` (nothing of the test runner's own variables). */
export const cleanEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, ...env });

/** Runs `node bin/gatehouse.js …` in `cwd` as its own process. */
export function gatehouse(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `gatehouse serve`; resolves once it says it is running (or rejects with its output when it exits). */
export function serve(env: Record<string, string>, cwd: string): Promise<{ child: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, "serve"], { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString("utf8");
      if (output.includes("Gatehouse is running")) resolve({ child, output: () => output, exited });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(Object.assign(new Error(`serve exited with ${code}: ${output}`), { code, output })));
  });
}

export { freePort } from "./processes.js";
