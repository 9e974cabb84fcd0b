import { formatDefault } from "./format-setting.js";
import { allSettings, isSecretSetting, SETTING_GROUPS } from "./schema.js";

/**
 * The text of `.env.example`: every setting of the schema, grouped as
 * docs/configuration.md is, commented out with its default and a one-line
 * description. Written by `npm run gen:env-example`; a test fails when the
 * committed file differs from this.
 */
export function renderEnvExample(): string {
  const lines = [
    "# Gatehouse settings, with their defaults. Generated from src/config/schema.ts",
    "# by `npm run gen:env-example`: do not edit by hand. docs/configuration.md explains each one.",
    "#",
    "# Copy this file to .env (chmod 600: in production Gatehouse refuses a .env other users",
    "# can read) and uncomment what you change. The real environment wins over the file;",
    "# GATEHOUSE_ENV_FILE names another file. `gatehouse config print` shows the result.",
  ];
  const settings = allSettings();
  for (const group of SETTING_GROUPS) {
    const members = settings.filter((s) => s.group === group);
    if (members.length === 0) continue;
    lines.push("", `## ${group}`);
    for (const setting of members) {
      const notes = [setting.fromFile ? `or ${setting.env}_FILE=<path of a file holding it>` : "", isSecretSetting(setting) ? "secret" : ""].filter(Boolean);
      lines.push("", `# ${setting.description}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`, `# ${setting.env}=${formatDefault(setting)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
