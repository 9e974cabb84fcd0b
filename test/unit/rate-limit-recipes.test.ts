import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseRulesFile } from "../../src/gateway/parse-rules-file.js";

/** Every YAML block of docs/rate-limit-recipes.md is a valid rules file with rate limits. */
describe("docs/rate-limit-recipes.md", () => {
  const text = readFileSync(new URL("../../docs/rate-limit-recipes.md", import.meta.url), "utf8");
  const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");

  it("has recipes, and each one loads", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) {
      const rules = parseRulesFile(block);
      expect(rules.rules.some((r) => (r.rateLimits?.length ?? 0) > 0)).toBe(true);
    }
  });
});
