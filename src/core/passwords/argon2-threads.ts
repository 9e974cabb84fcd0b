import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { LegacyJob } from "./legacy/legacy-verify.js";

/** One Argon2 operation for a hashing thread. */
export type Argon2Job =
  | { op: "hash"; password: string; options: Record<string, number> }
  | { op: "verify"; phc: string; password: string }
  /**
   * A legacy check (legacy/legacy-verify.ts), then, with `pad`, a verify of
   * `password` against that Argon2id hash whose answer is ignored: the cost
   * floor of docs/security-model.md#legacy-password-hashes.
   */
  | { op: "legacy"; job: LegacyJob; password: string; pad: string | null };

/** Runs Argon2 (and legacy) jobs off the event loop. */
export interface Argon2Threads {
  run(job: Argon2Job): Promise<string | boolean>;
  /** Stops the threads (pending jobs fail). */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/**
 * The hashing thread's code, a plain CommonJS string (an `eval` worker) so
 * it runs unchanged under tsx, the compiled build and the test runner. The
 * thread first lowers its own scheduling priority to the lowest (nice 19;
 * Linux applies a thread id's priority to that thread alone): when the
 * event loop and a hash want the same core, the event loop wins, so
 * signed-in requests keep their latency during a login flood while an idle
 * core still hashes at full speed (docs/performance.md).
 */
const THREAD_CODE = `
const { parentPort, workerData } = require("node:worker_threads");
const argon2 = require(workerData.argon2);
const crypto = require("node:crypto");
let bcrypt = null;
// The steps of runLegacyJob (src/core/passwords/legacy/legacy-verify.ts), synchronously.
function same(derived, hex) {
  const expected = Buffer.from(hex, "hex");
  return derived.length === expected.length && crypto.timingSafeEqual(derived, expected);
}
function legacy(job) {
  const password = Buffer.from(String(job.password), "utf8");
  switch (job.alg) {
    case "pbkdf2":
      return same(crypto.pbkdf2Sync(password, Buffer.from(job.salt, "utf8"), job.iterations, job.expected.length / 2, job.digest), job.expected);
    case "scrypt":
      return same(crypto.scryptSync(password, Buffer.from(job.salt, "utf8"), job.expected.length / 2, { N: job.n, r: job.r, p: job.p, maxmem: job.maxmem }), job.expected);
    case "bcrypt":
      bcrypt ??= require(workerData.bcryptjs);
      return bcrypt.compareSync(job.password, job.hash) === true;
    case "argon2":
      return argon2.verifySync(job.phc, job.password) === true;
    default:
      return false;
  }
}
function legacyWithFloor(job) {
  let ok = false;
  try {
    ok = legacy(job.job);
  } catch {}
  if (job.pad) {
    try {
      argon2.verifySync(job.pad, job.password);
    } catch {}
  }
  return ok;
}
try {
  const tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(tid) && tid > 0) require("node:os").setPriority(tid, 19);
} catch {}
parentPort.on("message", (job) => {
  let result;
  if (job.op === "legacy") {
    parentPort.postMessage({ id: job.id, result: legacyWithFloor(job) });
    return;
  }
  try {
    result = job.op === "hash" ? argon2.hashSync(job.password, job.options) : argon2.verifySync(job.phc, job.password);
  } catch {
    result = job.op === "hash" ? null : false;
  }
  parentPort.postMessage({ id: job.id, result });
});
`;

/**
 * A pool of `size` hashing threads running `@node-rs/argon2` (and the legacy
 * schemes: node:crypto PBKDF2/scrypt, `bcryptjs`) synchronously,
 * each at the lowest OS priority. Threads start with the first job and do
 * not keep the process alive. Callers bound the concurrency themselves
 * (BoundedHasher); a job goes to the thread with the fewest pending jobs.
 */
export function createArgon2Threads(size: number): Argon2Threads {
  const argon2 = require.resolve("@node-rs/argon2");
  const bcryptjs = require.resolve("bcryptjs");
  interface Thread {
    worker: Worker;
    pending: Map<number, { resolve(v: string | boolean): void; reject(e: Error): void }>;
  }
  let threads: Thread[] | null = null;
  let nextId = 0;

  function spawn(): Thread {
    const worker = new Worker(THREAD_CODE, { eval: true, workerData: { argon2, bcryptjs } });
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on("message", (msg: { id: number; result: string | boolean | null }) => {
      const waiter = thread.pending.get(msg.id);
      if (!waiter) return;
      thread.pending.delete(msg.id);
      if (msg.result === null) waiter.reject(new Error("hashing failed"));
      else waiter.resolve(msg.result);
    });
    const failAll = (err: Error) => {
      for (const waiter of thread.pending.values()) waiter.reject(err);
      thread.pending.clear();
    };
    worker.on("error", failAll);
    worker.on("exit", () => {
      failAll(new Error("hashing thread stopped"));
      // A thread that died is replaced; after close() there is nothing to replace.
      if (threads) threads = threads.map((t) => (t === thread ? spawn() : t));
    });
    return thread;
  }

  return {
    run(job) {
      threads ??= Array.from({ length: Math.max(1, size) }, spawn);
      const thread = threads.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ ...job, id });
      });
    },
    async close() {
      const running = threads ?? [];
      threads = null;
      await Promise.all(running.map((t) => t.worker.terminate()));
    },
  };
}
