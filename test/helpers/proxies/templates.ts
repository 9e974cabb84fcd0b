import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's docs/proxies directory: the configurations users copy are the ones tested. */
export const PROXY_DOCS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "docs", "proxies");

/** One literal replacement; every one must match at least once, so the docs and the tests cannot drift apart silently. */
export type Substitution = [from: string, to: string];

/** Reads `docs/proxies/<relative>` and applies `subs` in order, each required to match. */
export function renderDocTemplate(relative: string, subs: Substitution[]): string {
  let text = readFileSync(join(PROXY_DOCS_DIR, relative), "utf8");
  for (const [from, to] of subs) {
    if (!text.includes(from)) throw new Error(`docs/proxies/${relative} no longer contains ${JSON.stringify(from)}: update test/proxies to match the docs`);
    text = text.split(from).join(to);
  }
  return text;
}
