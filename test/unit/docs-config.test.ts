import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderEnvExample } from "../../src/config/env-example.js";
import { formatDefault } from "../../src/config/format-setting.js";
import { allSettings, SETTING_GROUPS, settings } from "../../src/config/schema.js";

const ROOT = join(import.meta.dirname, "..", "..");
const reference = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
const example = readFileSync(join(ROOT, ".env.example"), "utf8");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** The section of docs/configuration.md a `### heading` opens, up to the next `### ` or `## `. */
function docsSection(group: string): string {
  const start = reference.search(new RegExp(`^### ${group.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "m"));
  if (start < 0) return "";
  const rest = reference.slice(start + 4);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The `## group` block of .env.example. */
function exampleSection(group: string): string {
  const start = example.indexOf(`\n## ${group}\n`);
  if (start < 0) return "";
  const rest = example.slice(start + 1);
  const end = rest.indexOf("\n## ", 3);
  return end < 0 ? rest : rest.slice(0, end);
}

describe("the documentation and .env.example keep step with the configuration schema", () => {
  it("README opens with the two Quickstart commands", () => {
    const quickstart = readme.slice(0, readme.indexOf("## ", readme.indexOf("## Quickstart") + 3));
    expect(quickstart).toContain("npm install && npm start");
    expect(quickstart).toContain("npm install && npm test");
  });

  it(".env.example is exactly what the schema generates (run npm run gen:env-example after changing a setting)", () => {
    expect(example).toBe(renderEnvExample());
  });

  for (const setting of allSettings()) {
    it(`${setting.env}: documented in its section of docs/configuration.md and listed in .env.example with its default`, () => {
      expect(docsSection(setting.group), `docs/configuration.md has no "### ${setting.group}" section mentioning ${setting.env}`).toContain(`\`${setting.env}\``);
      expect(exampleSection(setting.group)).toContain(`\n# ${setting.env}=${formatDefault(setting)}\n`);
      expect(example).toContain(`# ${setting.description}`);
    });

    if (setting.default !== null) {
      it(`${setting.env}: the default written in .env.example parses back to the schema's default`, () => {
        expect(setting.parse(formatDefault(setting))).toEqual(setting.default);
      });
    }
  }

  it("every group of the schema is a section of docs/configuration.md, in the same order", () => {
    const positions = SETTING_GROUPS.map((g) => reference.search(new RegExp(`^### ${g}\\b`, "m")));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it("every rate limit (RATE_LIMIT_*) is in both, the token-creation limit included", () => {
    const limits = Object.values(settings).filter((s) => s.env.startsWith("RATE_LIMIT_")).map((s) => s.env);
    expect(limits).toContain("RATE_LIMIT_TOKEN_CREATE");
    for (const name of limits) {
      expect(reference).toContain(`\`${name}\``);
      expect(example).toContain(`# ${name}=`);
    }
  });

  it("docs/configuration.md explains the .env file, GATEHOUSE_ENV_FILE, config print, secret generate and doctor", () => {
    for (const phrase of ["`.env`", "`GATEHOUSE_ENV_FILE`", "`gatehouse config print`", "`gatehouse secret generate`", "`gatehouse doctor`", "`.env.example`"]) {
      expect(reference).toContain(phrase);
    }
  });
});
