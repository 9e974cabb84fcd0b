import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { watchedContext } from "../helpers/browser/watched-context.js";

describeBrowser("browser: the API reference page (GET /api/docs) under the page CSP (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  beforeAll(async () => {
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse()]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
  });

  it("lists the operations from the OpenAPI document, opens a schema, links the JSON, with no CSP violation or console error", async () => {
    const w = await watchedContext(browser);
    const page = await w.page();
    const violations: string[] = [];
    page.on("console", (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
    });
    const res = await page.goto(gh.url("/api/docs"));
    expect(res?.status()).toBe(200);
    expect(await res?.headerValue("content-security-policy")).not.toContain("unsafe-inline");
    const heading = (name: string) => page.getByRole("heading", { level: 3, name, exact: true });
    await expect.poll(() => heading("POST /api/auth/login").count()).toBe(1);
    expect(await heading("GET /api/admin/users/{id}").count()).toBe(1);
    expect(await page.getByRole("heading", { level: 3 }).count()).toBeGreaterThan(50);
    expect(await page.locator("h2").allTextContents()).toEqual(expect.arrayContaining(["auth", "account", "admin"]));
    // The schemas are in <details> (no script needed to open them).
    const login = page.locator("section", { has: heading("POST /api/auth/login") });
    await login.locator("summary", { hasText: "Request schema" }).click();
    await expect.poll(() => login.locator("pre").first().isVisible()).toBe(true);
    expect(await login.locator("pre").first().textContent()).toContain('"username"');
    // The machine-readable document is one click away.
    const json = await page.request.get(gh.url("/api/openapi.json"));
    expect(((await json.json()) as { openapi: string }).openapi).toBe("3.1.0");
    expect(await page.locator('a[href="/api/openapi.json"]').count()).toBe(1);
    expect(violations).toEqual([]);
    await w.closeClean();
  });
});
