import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Where a proxy binary lives: PATH plus the sbin directories (Debian puts nginx in /usr/sbin). */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/local/sbin", "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const warned = new Set<string>();

/**
 * Whether a real-proxy suite runs. With CI=true it always runs, so a missing
 * binary FAILS the suite (never a silent skip); elsewhere it is skipped with
 * a message saying how to install it.
 */
export function proxySuiteRuns(name: "nginx" | "caddy"): boolean {
  if (findBinary(name)) return true;
  if (process.env.CI === "true") return true;
  if (warned.has(name)) return false;
  warned.add(name);
  process.stderr.write(`\n[test/proxies] SKIPPED the ${name} suite: no \`${name}\` binary (apt-get install -y ${name}; .ci/run installs it)\n`);
  return false;
}

/** The binary's path, or an error saying it is missing (CI=true). */
export function requireBinary(name: "nginx" | "caddy"): string {
  const bin = findBinary(name);
  if (!bin) throw new Error(`${name} is not installed, and CI=true forbids skipping the ${name} suite: apt-get install -y ${name}`);
  return bin;
}
