import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { effectiveSettings } from "../../config/effective-settings.js";
import { renderEnvExample } from "../../config/env-example.js";
import { ConfigError, loadConfig } from "../../config/load-config.js";
import { loadProviders, ProviderConfigError } from "../../oauth/load-providers.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { cliEnvironment } from "../cli-environment.js";

export const CONFIG_USAGE = `Usage: gatehouse config <command>

  print                 the effective configuration: every setting, its value and
                        where it came from (default, .env, environment, NAME_FILE);
                        secrets are redacted. Exit 1 when the server would refuse it.
  example [--out <f>]   the .env.example text generated from the schema
                        (npm run gen:env-example writes .env.example)`;

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { out: { type: "string" }, help: { type: "boolean", short: "h", default: false } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${CONFIG_USAGE}`, EXIT.usage);
  }
}

/** The problems the server would refuse to start with, without side effects (no development secret is written). */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  const hasSecret = Boolean(env.SECRET_KEY || env.SECRET_KEY_FILE);
  // A throwaway stand-in key keeps loadConfig from writing a development secret; it is never shown.
  const probe = hasSecret ? env : { ...env, SECRET_KEY: randomBytes(32).toString("hex") };
  const problems: string[] = [];
  if (!hasSecret && env.NODE_ENV === "production") problems.push("SECRET_KEY is required in production");
  try {
    // The identity providers too (OAUTH_* and the rules file's identity_providers), as the start reads them.
    loadProviders(loadConfig(probe), probe);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ProviderConfigError) problems.push(...err.problems);
    else throw err;
  }
  return problems;
}

function print(io: CliIo): number {
  const loaded = cliEnvironment(io.env);
  const rows = effectiveSettings(loaded);
  const width = Math.min(48, Math.max(...rows.map((r) => r.env.length + 1 + r.shown.length)));
  io.out(`# Effective configuration${loaded.path === null ? " (no .env file)" : ` (.env: ${loaded.path})`}; secrets are shown as ***\n`);
  for (const r of rows) {
    const line = printable(`${r.env}=${r.shown}`);
    const source = printable(r.file === undefined ? r.source : `${r.source} ${r.file}`);
    io.out(`${line.padEnd(width)}  # ${source}\n`);
  }
  const problems = problemsOf(loaded.env);
  if (problems.length === 0) return EXIT.ok;
  io.err(`\nThe server would refuse this configuration:\n${problems.map((p) => `  - ${printable(p)}`).join("\n")}\n(run "gatehouse doctor" for advice)\n`);
  return EXIT.failure;
}

/** `gatehouse config print | example`. */
export const configCommand: Command = async (args: string[], io: CliIo) => {
  const { values, positionals } = parse(args);
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    (values.help ? io.out : io.err)(`${CONFIG_USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (rest.length > 0) throw new CliError(`unexpected argument "${rest[0]!.slice(0, 40)}"\n\n${CONFIG_USAGE}`, EXIT.usage);
  if (sub === "print") {
    if (values.out !== undefined) throw new CliError(`print takes no --out\n\n${CONFIG_USAGE}`, EXIT.usage);
    return print(io);
  }
  if (sub === "example") {
    const text = renderEnvExample();
    if (values.out === undefined) io.out(text);
    else writeFileSync(values.out, text);
    return EXIT.ok;
  }
  throw new CliError(`unknown config command "${sub.slice(0, 40)}"\n\n${CONFIG_USAGE}`, EXIT.usage);
};
