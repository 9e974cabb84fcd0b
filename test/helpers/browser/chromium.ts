import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { describe } from "vitest";

/** Debian's Chromium, installed by `.ci/run` with apt-get when missing. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

const missing = !existsSync(CHROMIUM_PATH);
let warned = false;

/**
 * `describe` for a browser suite. Without Chromium it skips with a clear
 * message, except under `CI=true`, where the suite runs and fails in
 * {@link launchChromium}: CI never skips the browser tests silently.
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (missing && process.env.CI !== "true") {
    if (!warned) {
      warned = true;
      console.warn(`\n  Browser suites are SKIPPED: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium; .ci/run does it).\n`);
    }
    describe.skip(name, fn);
    return;
  }
  describe(name, fn);
}

/** Launches headless Chromium (with `extraArgs`, e.g. `--host-resolver-rules=…`); throws a clear error when it is not installed. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (missing) {
    throw new Error(`The browser suite needs Chromium at ${CHROMIUM_PATH} (CI=true never skips it): apt-get install -y chromium, as .ci/run does.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", ...extraArgs],
  });
}
