import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A free TCP port on loopback (nothing listens on it once this resolves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Resolves with everything `child` wrote to stdout and stderr once every one
 * of `needles` has appeared there (in any order: the two streams interleave
 * freely); rejects with that output when it exits first or when `timeoutMs`
 * passes.
 */
export function waitForOutput(child: ChildProcess, needles: string | string[], timeoutMs: number): Promise<string> {
  const wanted = typeof needles === "string" ? [needles] : needles;
  const what = wanted.map((n) => `"${n}"`).join(" and ");
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; output:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString("utf8");
      if (wanted.every((n) => out.includes(n))) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${what}; output:\n${out}`));
    });
  });
}

/**
 * Ends a child started with `detached: true` (npm, tsx and node share its
 * process group) with SIGTERM, and waits for "close": until every process
 * holding its pipes has exited.
 */
export async function stopProcessGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("close", r));
  process.kill(-child.pid, "SIGTERM");
  await exited;
}
