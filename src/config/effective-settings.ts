import { readFileSync } from "node:fs";
import type { LoadedEnvironment } from "./env-file.js";
import { formatDefault } from "./format-setting.js";
import { redactValue } from "./redact-value.js";
import { allSettings, isSecretSetting, type Setting } from "./schema.js";

/** Where a setting's value came from. */
export type SettingSource = "default" | ".env" | "environment" | `${string}_FILE`;

/** One line of `gatehouse config print`: a setting, its value (secrets redacted) and its source. */
export interface EffectiveSetting {
  env: string;
  /** The value as written (or the default), redacted when the setting is secret; "" when unset. */
  shown: string;
  source: SettingSource;
  /** For a `*_FILE` source: the file's path. */
  file?: string;
  secret: boolean;
}

function sourceOf(name: string, loaded: LoadedEnvironment): SettingSource {
  return loaded.fromFile.has(name) ? ".env" : "environment";
}

function describe(setting: Setting<unknown>, loaded: LoadedEnvironment): EffectiveSetting {
  const secret = isSecretSetting(setting);
  const shown = (raw: string) => (secret ? redactValue(raw) : raw.trim());
  const fileVar = `${setting.env}_FILE`;
  const path = loaded.env[fileVar];
  if (setting.fromFile && path !== undefined && path !== "") {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      text = "";
    }
    const via = sourceOf(fileVar, loaded) === ".env" ? " (named in .env)" : "";
    return { env: setting.env, shown: text === "" ? "(unreadable)" : shown(text), source: fileVar as `${string}_FILE`, file: `${path}${via}`, secret };
  }
  const raw = loaded.env[setting.env];
  if (raw !== undefined && raw.trim() !== "") return { env: setting.env, shown: shown(raw), source: sourceOf(setting.env, loaded), secret };
  return { env: setting.env, shown: formatDefault(setting), source: "default", secret };
}

/**
 * Every setting of the schema with the value Gatehouse would use and where it
 * came from: the default, the `.env` file, the environment, or a `*_FILE`.
 * Values of secret settings (see `isSecretSetting`) are redacted.
 */
export function effectiveSettings(loaded: LoadedEnvironment): EffectiveSetting[] {
  return allSettings().map((setting) => describe(setting, loaded));
}
