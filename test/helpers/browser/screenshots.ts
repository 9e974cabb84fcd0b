import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";

const ROOT = join(import.meta.dirname, "..", "..", "..");
/** Where every run leaves its screenshots (gitignored; a CI artifact). */
export const ARTIFACTS_DIR = join(ROOT, "test", "browser", "artifacts");
/** The committed set the README shows, refreshed with `GATEHOUSE_UPDATE_SCREENSHOTS=1`. */
export const DOCS_DIR = join(ROOT, "docs", "screenshots");

/**
 * Saves a (by default full-page) screenshot as `test/browser/artifacts/<name>.png`, and
 * also into `docs/screenshots/` when `GATEHOUSE_UPDATE_SCREENSHOTS=1`.
 */
export async function saveScreenshot(page: Page, name: string, o: { fullPage?: boolean } = {}): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: o.fullPage ?? true, animations: "disabled", caret: "hide" });
  if (process.env.GATEHOUSE_UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOCS_DIR, { recursive: true });
    copyFileSync(file, join(DOCS_DIR, `${name}.png`));
  }
}
