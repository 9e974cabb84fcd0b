import { readFileSync } from "node:fs";
import type { Config } from "../config/config.js";
import type { ProviderSettings } from "../core/oauth/identity-provider.js";
import { RulesFileError } from "../gateway/parse-rules-file.js";
import { parseProvidersFile } from "./parse-providers-file.js";
import { providerSettingsFrom } from "./provider-settings-from.js";

/** Why the sign-in methods cannot start; every problem at once, no secret in any of them. */
export class ProviderConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the identity providers are invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ProviderConfigError";
    this.problems = problems;
  }
}

/**
 * Every configured identity provider: the `OAUTH_*` one (id = its type) and
 * the rules file's `identity_providers`, validated together (unique ids;
 * `PASSWORD_LOGIN=off` needs an enabled provider, or nobody could sign in).
 * Read once at start: a provider change needs a restart.
 */
export function loadProviders(config: Pick<Config, "configFile" | "signInMethods">, env: NodeJS.ProcessEnv = process.env): ProviderSettings[] {
  const problems: string[] = [];
  const providers: ProviderSettings[] = [];
  const fromEnv = config.signInMethods.envProvider;
  if (fromEnv !== null) {
    const { client_secret: secret, ...rest } = fromEnv;
    if (typeof secret !== "string" || secret === "") problems.push("OAUTH_CLIENT_SECRET (or OAUTH_CLIENT_SECRET_FILE) is required with OAUTH_PROVIDER");
    else {
      const settings = providerSettingsFrom({ ...rest, client_secret_env: "OAUTH_CLIENT_SECRET" }, "OAUTH_* variables", { OAUTH_CLIENT_SECRET: secret }, problems);
      if (settings) providers.push(settings);
    }
  }
  if (config.configFile !== null) {
    let text: string | null;
    try {
      text = readFileSync(config.configFile, "utf8");
    } catch {
      text = null; // the rules file reloader reports an unreadable file
    }
    if (text !== null) {
      try {
        for (const p of parseProvidersFile(text, env)) {
          if (providers.some((q) => q.id === p.id)) problems.push(`${config.configFile}: the provider id \`${p.id}\` is also set by OAUTH_PROVIDER`);
          else providers.push(p);
        }
      } catch (err) {
        if (!(err instanceof RulesFileError)) throw err;
        problems.push(...err.problems.map((p) => `${config.configFile}: ${p}`));
      }
    }
  }
  if (!config.signInMethods.password && !providers.some((p) => p.enabled) && problems.length === 0) {
    problems.push("PASSWORD_LOGIN=off needs at least one enabled identity provider (OAUTH_PROVIDER or `identity_providers`), or nobody could sign in");
  }
  if (problems.length > 0) throw new ProviderConfigError(problems);
  return providers;
}
