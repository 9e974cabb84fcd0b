import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { CONTROL_TEXT, startFramingSite, type FramingSite } from "../helpers/browser/framing-site.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { watchedContext } from "../helpers/browser/watched-context.js";

/** True when the page shows a sign-in form (a password input). */
async function hasPasswordField(page: Pick<Page, "locator">): Promise<boolean> {
  return (await page.locator("input[type=password]").count()) > 0;
}

describeBrowser("browser attack: clickjacking and injected script (HDR-02, HDR-03; sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let evil: FramingSite;
  beforeAll(async () => {
    [browser, gh, evil] = await Promise.all([launchChromium(), startLiveGatehouse(), startFramingSite()]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await evil?.close();
  });

  for (const path of ["/login", "/admin"]) {
    it(`clickjacking: ${path} refuses to be framed by another origin (frame-ancestors 'none' / X-Frame-Options)`, async () => {
      const w = await watchedContext(browser);
      const page = await w.page();
      // The page itself is a real page when visited directly…
      const direct = await page.goto(gh.url(path));
      expect(direct?.status()).toBe(200);
      expect(await hasPasswordField(page)).toBe(true);

      // …but framed from 127.0.0.2 it does not render, while a header-less cross-origin control frame does.
      const refusals: string[] = [];
      page.on("console", (msg) => {
        if (/frame-ancestors|X-Frame-Options|Refused to (display|frame)/i.test(msg.text())) refusals.push(msg.text());
      });
      w.allow(/frame-ancestors|X-Frame-Options|Refused to (display|frame)/i);
      // goto waits for the load event, which waits for both frames.
      await page.goto(evil.framing(gh.url(path)));
      expect(await page.frameLocator("iframe[name=control]").locator("body").textContent()).toContain(CONTROL_TEXT);
      expect(await hasPasswordField(page.frameLocator("iframe[name=target]"))).toBe(false);
      await expect.poll(() => refusals.join("\n")).toMatch(/frame-ancestors/);
      await w.closeClean();
    });
  }

  it("CSP: an inline script and an event handler injected into the sign-in page do not run", async () => {
    const w = await watchedContext(browser);
    const page = await w.page();
    const violations: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) violations.push(msg.text());
    });
    w.allow(/Content Security Policy/i);
    w.allow(/status of 404/); // the injected <img src="/nope.png">
    // A man-in-the-middle of the body only: Gatehouse's own headers (CSP included) are kept.
    await page.route(gh.url("/login"), async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(
        "</main>",
        `<script>window.__pwned = "inline";</script><img src="/nope.png" onerror="window.__pwned2 = 'handler'"></main>`,
      );
      await route.fulfill({ response, body });
    });
    await page.goto(gh.url("/login"));
    expect(await hasPasswordField(page)).toBe(true);
    expect(await page.evaluate("typeof window.__pwned")).toBe("undefined");
    expect(await page.evaluate("typeof window.__pwned2")).toBe("undefined");
    expect(violations.length).toBeGreaterThanOrEqual(2);
    await w.closeClean();
  });

  it("CSP: Gatehouse's own script runs under the policy (the password show/hide toggle works) with no violation", async () => {
    const w = await watchedContext(browser);
    const page = await w.page();
    await page.goto(gh.url("/login"));
    const toggle = page.locator("[data-toggle-password]").first();
    await expect.poll(() => toggle.isVisible()).toBe(true);
    const password = page.locator("input[type=password]").first();
    const id = await password.getAttribute("id");
    await toggle.click();
    expect(await page.locator(`#${id}`).getAttribute("type")).toBe("text");
    await w.closeClean();
  });
});
