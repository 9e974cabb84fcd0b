import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { expect } from "vitest";

/**
 * A browser context that records everything a page should never do on
 * Gatehouse: a JavaScript dialog (a fired XSS payload), an uncaught page
 * error, and any console error — which is how Chromium reports a CSP
 * violation ("Refused to execute inline script …") on our own pages.
 */
export interface WatchedContext {
  context: BrowserContext;
  /** Opens a new page in the context. */
  page(): Promise<Page>;
  /** Alerts, prompts and other non-confirm dialogs that opened (each dismissed at once): never expected. */
  dialogs: string[];
  /** Questions of the app's own confirm dialogs (`form[data-confirm]`), each accepted. */
  confirms: string[];
  /** Console errors and page errors, prefixed with the page URL. */
  errors: string[];
  /** Tolerates console errors matching `pattern` (e.g. the "status of 403" line of an expected refusal). */
  allow(pattern: RegExp): void;
  /** Fails unless no dialog opened and no unexpected console or page error happened; then closes the context. */
  closeClean(): Promise<void>;
}

/** The User-Agent of an ordinary desktop Chromium (not "HeadlessChrome"), as sessions lists and audit rows show it. */
export const DESKTOP_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/** A new context with the watchers attached (see {@link WatchedContext}). */
export async function watchedContext(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: DESKTOP_CHROME, ...options });
  const dialogs: string[] = [];
  const confirms: string[] = [];
  const errors: string[] = [];
  const allowed: RegExp[] = [];
  context.on("dialog", (dialog) => {
    if (dialog.type() === "confirm") {
      confirms.push(dialog.message());
      void dialog.accept().catch(() => undefined);
      return;
    }
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  context.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const text = msg.text();
    const where = msg.location().url;
    // Chromium asks for /favicon.ico on its own when a page names no icon; that is not the page's doing.
    if (where.endsWith("/favicon.ico") || allowed.some((re) => re.test(text))) return;
    errors.push(`${msg.page()?.url() ?? "?"}: ${text}${where ? ` (${where})` : ""}`);
  });
  context.on("weberror", (err) => errors.push(`${err.page()?.url() ?? "?"}: uncaught ${err.error().message}`));
  return {
    context,
    page: () => context.newPage(),
    dialogs,
    confirms,
    errors,
    allow: (pattern) => void allowed.push(pattern),
    async closeClean() {
      await context.close();
      expect(dialogs, "a JavaScript dialog opened").toEqual([]);
      expect(errors, "console or page errors").toEqual([]);
    },
  };
}
