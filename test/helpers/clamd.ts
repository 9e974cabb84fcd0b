import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLAMD = "/usr/sbin/clamd";
const SIGTOOL = "/usr/bin/sigtool";

/** The EICAR test file (the industry's harmless "virus" every scanner detects), assembled here so no file holds it. */
export const EICAR = Buffer.from(["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].join(""), "latin1");

/** A clamd of the test's own: a unix socket in a temp dir, a local signature database made by sigtool, no freshclam. */
export interface TestClamd {
  /** `unix:/…/clamd.sock`, for `CLAMD_URL`. */
  url: string;
  /** Stops clamd (the socket then refuses connections: "clamd down"). */
  stop(): Promise<void>;
  /** Stops it if running, and removes its directory. */
  close(): Promise<void>;
}

/**
 * True when clamd and sigtool are installed. Under CI=true a suite that needs
 * them must fail when they are not (call {@link startClamd}, which throws).
 */
export const clamdInstalled = (): boolean => existsSync(CLAMD) && existsSync(SIGTOOL);

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path: socketPath });
    let reply = "";
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.on("connect", () => s.write("zPING\0"));
    s.on("data", (c: Buffer) => {
      reply += c.toString();
      if (reply.includes("PONG")) {
        s.destroy();
        resolve(true);
      }
    });
    s.on("error", () => resolve(false));
  });
}

/** Starts clamd with a database holding only the EICAR signature (`sigtool --md5`); resolves once it answers PING. */
export async function startClamd(): Promise<TestClamd> {
  if (!clamdInstalled()) throw new Error(`clamd tests need ${CLAMD} and ${SIGTOOL} (Debian: clamav-daemon, clamav)`);
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-clamd-"));
  const db = join(dir, "db");
  mkdirSync(db);
  const eicar = join(dir, "eicar.com");
  writeFileSync(eicar, EICAR);
  const sig = spawnSync(SIGTOOL, ["--md5", eicar], { encoding: "utf8" });
  if (sig.status !== 0) throw new Error(`sigtool failed: ${sig.stderr}`);
  writeFileSync(join(db, "local.hdb"), sig.stdout);
  rmSync(eicar);
  const socketPath = join(dir, "clamd.sock");
  writeFileSync(
    join(dir, "clamd.conf"),
    [`Foreground yes`, `LocalSocket ${socketPath}`, `DatabaseDirectory ${db}`, `LogFile ${join(dir, "clamd.log")}`, `PidFile ${join(dir, "clamd.pid")}`, `StreamMaxLength 64M`, `SelfCheck 0`, ""].join("\n"),
  );
  const child: ChildProcess = spawn(CLAMD, ["-c", join(dir, "clamd.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (!(existsSync(socketPath) && (await ping(socketPath)))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`clamd did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `unix:${socketPath}`,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
