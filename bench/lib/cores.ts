import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Where the processes of a run are placed. */
export interface Placement {
  /** The core every server under test is pinned to, or null (unpinned). */
  server: number | null;
  /** The core of the load generators (autocannon and the login flood's attacker), or null. */
  load: number | null;
  /** One line for the report: "server on core 1, load on core 0", or why nothing is pinned. */
  describe: string;
}

/** The CPUs this process may run on (its affinity list), from /proc. */
function allowedCpus(): number[] {
  try {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "";
    return list.split(",").flatMap((part) => {
      const [a, b] = part.split("-").map(Number);
      if (a === undefined || !Number.isInteger(a)) return [];
      return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
  } catch {
    return [];
  }
}

/**
 * With two or more cores and `taskset`, the server under test gets the
 * second allowed core and the load generators the first, so neither steals
 * the other's CPU; otherwise everything runs unpinned and the report says why.
 */
export function placement(wanted: boolean): Placement {
  if (!wanted) return { server: null, load: null, describe: "unpinned (--no-pin)" };
  const cpus = allowedCpus();
  if (cpus.length < 2) return { server: null, load: null, describe: `unpinned (${cpus.length || "unknown number of"} core${cpus.length === 1 ? "" : "s"} available)` };
  if (spawnSync("taskset", ["-c", String(cpus[0]), "true"]).status !== 0) return { server: null, load: null, describe: "unpinned (taskset not available)" };
  const [load, server] = [cpus[0]!, cpus[1]!];
  return { server, load, describe: `server on core ${server}, load on core ${load}` };
}

/** The command that runs `argv` on `core` (or as is when core is null). */
export function pinned(core: number | null, argv: string[]): [string, string[]] {
  return core === null ? [argv[0]!, argv.slice(1)] : ["taskset", ["-c", String(core), ...argv]];
}
