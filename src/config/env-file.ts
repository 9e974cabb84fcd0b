import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseEnv } from "node:util";

/** The variable that names another settings file than `./.env`. */
export const ENV_FILE_VARIABLE = "GATEHOUSE_ENV_FILE";

/** The environment Gatehouse reads its settings from: the real one over the `.env` file. */
export interface LoadedEnvironment {
  /** The merged variables: the file's, overridden by the real environment's. */
  env: NodeJS.ProcessEnv;
  /** The file read, or null when there was none. */
  path: string | null;
  /** The names whose value came from the file (set there and not in the real environment). */
  fromFile: ReadonlySet<string>;
}

/** The settings file cannot be used; the message names the file and the rule, never a value. */
export class EnvFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnvFileError";
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Words for the usual file-system error codes ("no such file" rather than ENOENT). */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    default:
      return code ?? "unreadable";
  }
}

/**
 * Reads the settings file — `GATEHOUSE_ENV_FILE` if set (it must exist),
 * else `.env` in `cwd` if present — with Node's own parser, and merges it
 * under `env`: a variable of the real environment always wins. In
 * production (NODE_ENV=production in either) a file that other users can
 * read, or that its group can write, is refused. Messages never contain a
 * value from the file.
 */
export function loadEnvironment(env: NodeJS.ProcessEnv, cwd: string): LoadedEnvironment {
  const named = env[ENV_FILE_VARIABLE];
  const explicit = named !== undefined && named.trim() !== "";
  const path = resolve(cwd, explicit ? named.trim() : ".env");
  const what = explicit ? `${ENV_FILE_VARIABLE}: cannot read ${path}` : `cannot read ${path}`;
  let text: string;
  let mode: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: stat.isDirectory() ? "EISDIR" : "ENOTFILE" });
    mode = stat.mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (!explicit && (err as NodeJS.ErrnoException).code === "ENOENT") return { env, path: null, fromFile: new Set() };
    throw new EnvFileError(`${what}: ${describeFsError(err)}`);
  }
  const parsed = parseEnv(text);
  const fromFile = new Set<string>();
  const merged: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!NAME.test(name) || value === undefined) continue;
    merged[name] = value;
    if (env[name] === undefined) fromFile.add(name);
  }
  Object.assign(merged, env);
  if (merged.NODE_ENV === "production" && (mode & 0o027) !== 0) {
    throw new EnvFileError(
      `${path} is readable by other users or writable by its group (mode ${mode.toString(8).padStart(4, "0")}); it holds secrets: chmod 600 ${path} (or 640 for a group that only reads it)`,
    );
  }
  return { env: merged, path, fromFile };
}
