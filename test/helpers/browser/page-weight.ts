import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { ARTIFACTS_DIR } from "./screenshots.js";

/** Bytes a page costs: its HTML, and the stylesheets and scripts it loads (uncompressed, and gzip for reference). */
export interface PageWeight {
  page: string;
  html: number;
  css: number;
  js: number;
  total: number;
  gzipTotal: number;
  /** Time to first byte of the HTML over loopback, ms (the server's render time plus a little). */
  ttfbMs: number;
}

/** Loads `url` in `page` and measures what it weighs. */
export async function measurePageWeight(page: Page, url: string): Promise<PageWeight> {
  const response = await page.goto(url);
  if (!response || response.status() !== 200) throw new Error(`${url}: status ${response?.status() ?? "none"}`);
  const html = await response.body();
  const timing = response.request().timing();
  const assets = (await page.evaluate(
    `[...document.querySelectorAll("link[rel=stylesheet][href], script[src]")].map((el) => [el.tagName, el.href || el.src])`,
  )) as [string, string][];
  let css = 0;
  let js = 0;
  const gz: Buffer[] = [html];
  for (const [tag, href] of assets) {
    const body = await (await page.request.get(href)).body();
    gz.push(body);
    if (tag === "LINK") css += body.length;
    else js += body.length;
  }
  const gzipTotal = gz.reduce((n, b) => n + gzipSync(b).length, 0);
  return { page: new URL(url).pathname, html: html.length, css, js, total: html.length + css + js, gzipTotal, ttfbMs: Math.round(timing.responseStart - timing.requestStart) };
}

/** Writes the measurements to `test/browser/artifacts/page-weight.json`. */
export function savePageWeights(weights: PageWeight[]): void {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, "page-weight.json"), `${JSON.stringify(weights, null, 2)}\n`);
}
