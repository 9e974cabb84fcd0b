import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";

const ROOT = join(import.meta.dirname, "..", "..", "..");
/** Where every run leaves its screenshots (gitignored; a CI artifact). */
export const ARTIFACTS_DIR = join(ROOT, "test", "browser", "artifacts");
/** The committed set the README shows, refreshed with `GATEHOUSE_UPDATE_SCREENSHOTS=1`. */
export const DOCS_DIR = join(ROOT, "docs", "screenshots");

/** A rectangle of the page, in CSS pixels from its top-left corner. */
export interface Clip {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The smallest rectangle holding every one of `locators` (each visible), with a small margin: a clip for {@link saveScreenshot}. */
export async function unionOf(locators: Locator[], margin = 8): Promise<Clip> {
  const boxes = await Promise.all(
    locators.map(async (l) => {
      const box = await l.boundingBox();
      if (box === null) throw new Error("unionOf: an element is not visible");
      return box;
    }),
  );
  const scroll = (await locators[0]!.page().evaluate("[window.scrollX, window.scrollY]")) as [number, number];
  const x = Math.max(0, Math.min(...boxes.map((b) => b.x)) - margin);
  const y = Math.max(0, Math.min(...boxes.map((b) => b.y)) - margin);
  const right = Math.max(...boxes.map((b) => b.x + b.width)) + margin;
  const bottom = Math.max(...boxes.map((b) => b.y + b.height)) + margin;
  return { x: x + scroll[0], y: y + scroll[1], width: right - x, height: bottom - y };
}

/**
 * Saves a (by default full-page) screenshot as `test/browser/artifacts/<name>.png`, and
 * also into `docs/screenshots/` when `GATEHOUSE_UPDATE_SCREENSHOTS=1`. With `clip`, only
 * that rectangle of the full page.
 */
export async function saveScreenshot(page: Page, name: string, o: { fullPage?: boolean; clip?: Clip } = {}): Promise<void> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: o.fullPage ?? true, animations: "disabled", caret: "hide", ...(o.clip ? { clip: o.clip } : {}) });
  if (process.env.GATEHOUSE_UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOCS_DIR, { recursive: true });
    copyFileSync(file, join(DOCS_DIR, `${name}.png`));
  }
}
