import { EnvFileError, loadEnvironment, type LoadedEnvironment } from "../config/env-file.js";
import { CliError } from "./cli-io.js";

/**
 * The environment a command reads its settings from: the process's, over
 * `.env` in the working directory (or `GATEHOUSE_ENV_FILE`), exactly as the
 * server reads it. A file that cannot be used becomes one readable CliError.
 */
export function cliEnvironment(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): LoadedEnvironment {
  try {
    return loadEnvironment(env, cwd);
  } catch (err) {
    if (err instanceof EnvFileError) throw new CliError(err.message);
    throw err;
  }
}
