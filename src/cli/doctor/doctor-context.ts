import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../../config/config.js";
import { EnvFileError, loadEnvironment, type LoadedEnvironment } from "../../config/env-file.js";
import { ConfigError, loadConfig } from "../../config/load-config.js";
import { allSettings, isSecretSetting } from "../../config/schema.js";
import { withStandInSecret, type Finding } from "../doctor-checks.js";

/** What every doctor check reads: the environment as the server sees it and the configuration built from it. */
export interface DoctorContext {
  /** The real environment over the `.env` file. */
  env: NodeJS.ProcessEnv;
  loaded: LoadedEnvironment;
  production: boolean;
  /**
   * The configuration, built even when some variables are invalid: those are
   * dropped (see `broken`) so the other checks still run. Null only when
   * nothing could be built.
   */
  config: Config | null;
  /** Variables left out of `config` because they are invalid (reported by the "settings" check). */
  broken: ReadonlySet<string>;
  /** Replaces every secret value (and URL credential) of the configuration in `text` with `***`. */
  scrub(text: string): string;
}

/** The variable names a configuration problem is about (it starts with, or names, them). */
function namesIn(problem: string): string[] {
  const names: string[] = [];
  for (const s of allSettings()) {
    for (const name of [s.env, `${s.env}_FILE`]) if (new RegExp(`(^|[^A-Z_])${name}([^A-Z_]|$)`).test(problem)) names.push(name);
  }
  return names;
}

/** Builds the configuration without side effects (no development secret is written), dropping invalid variables. */
function configDespiteProblems(env: NodeJS.ProcessEnv): { config: Config | null; broken: Set<string> } {
  let { probe } = withStandInSecret(env);
  const broken = new Set<string>();
  for (let round = 0; round < 5; round++) {
    try {
      return { config: loadConfig(probe), broken };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Production-only rules are reported by the settings check; the live checks go on without them.
      if (round === 0 && probe.NODE_ENV === "production") {
        probe = { ...probe, NODE_ENV: "development" };
        continue;
      }
      for (const problem of err.problems) {
        // Problems start with the variable's name; one that persists (a pair of variables) drops every name it mentions.
        const leading = /^[A-Z][A-Z0-9_]*/.exec(problem)?.[0];
        for (const name of round < 3 ? (leading ? [leading] : []) : namesIn(problem)) {
          if (name === "NODE_ENV") continue;
          broken.add(name);
          delete probe[name];
        }
      }
      if (err.problems.some((p) => p.startsWith("SECRET_KEY") || p.includes("SECRET_KEY_FILE"))) probe.SECRET_KEY = randomBytes(32).toString("hex");
    }
  }
  return { config: null, broken };
}

/** Every secret the configuration holds, with the parts of URL secrets (user, password) on their own. */
function secretsOf(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const s of allSettings().filter(isSecretSetting)) {
    let value = env[s.env];
    const file = env[`${s.env}_FILE`];
    if (s.fromFile && file) {
      try {
        value = readFileSync(file, "utf8").trim();
      } catch {
        value = undefined;
      }
    }
    if (!value) continue;
    out.push(value);
    try {
      const url = new URL(value);
      for (const part of [url.username, url.password, url.pathname.slice(1), url.search.slice(1)]) {
        if (part.length >= 4) out.push(part, decodeURIComponent(part));
      }
    } catch {
      // Not a URL: the whole value is the secret.
    }
  }
  return out.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

/** Reads `.env` and the configuration for doctor; a `.env` that cannot be used is a finding, not a crash. */
export function doctorContext(realEnv: NodeJS.ProcessEnv, cwd: string): { ctx: DoctorContext; findings: Finding[] } {
  const findings: Finding[] = [];
  let loaded: LoadedEnvironment;
  try {
    loaded = loadEnvironment(realEnv, cwd);
  } catch (err) {
    if (!(err instanceof EnvFileError)) throw err;
    findings.push({ level: "error", message: err.message, fix: "the server refuses to start until the settings file is readable and private (chmod 600)" });
    loaded = { env: realEnv, path: null, fromFile: new Set() };
  }
  const env = loaded.env;
  const { config, broken } = configDespiteProblems(env);
  const secrets = secretsOf(env);
  const scrub = (text: string) => secrets.reduce((t, s) => t.split(s).join("***"), text);
  return { ctx: { env, loaded, production: env.NODE_ENV === "production", config, broken, scrub }, findings };
}
