import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { settings } from "../../src/config/schema.js";

const ROOT = join(import.meta.dirname, "..", "..");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const reference = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");

describe("the documentation keeps step with the configuration schema", () => {
  it("README opens with the two Quickstart commands", () => {
    const quickstart = readme.slice(0, readme.indexOf("## ", readme.indexOf("## Quickstart") + 3));
    expect(quickstart).toContain("npm install && npm start");
    expect(quickstart).toContain("npm install && npm test");
  });

  for (const setting of Object.values(settings)) {
    it(`documents ${setting.env} in docs/configuration.md`, () => {
      expect(reference).toContain(`\`${setting.env}\``);
    });
  }
});
