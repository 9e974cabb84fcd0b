import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { pathOf, signIn } from "../helpers/browser/portal.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { cheapArgon2, doubleWithRecoveryCodes } from "../helpers/recovery-codes.js";

describeBrowser("browser: recovery codes — sign in with one, make new ones (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  const factors = doubleWithRecoveryCodes();
  const hasher = cheapArgon2();
  beforeAll(async () => {
    [browser, gh] = await Promise.all([
      launchChromium(),
      startLiveGatehouse({}, undefined, { hasher, secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers }),
    ]);
    factors.attach(gh.h.gh);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await hasher.close();
  });

  it("the second-factor page's \"Use a recovery code\" signs in; the account page makes ten new codes after a confirmation, with no script or CSP error", async () => {
    const account = await gh.h.account();
    factors.enrolled.add(account.id);
    const codes = await gh.h.gh.recoveryCodes.issue(account.id);
    const ctx = await watchedContext(browser);
    const page = await ctx.page();
    await signIn(page, gh, account.name, { returnTo: "/account" });
    expect(pathOf(page)).toBe("/login");
    await page.getByText("Use a recovery code").click();
    await page.getByLabel("Recovery code").fill(codes[2]!.toUpperCase().replace(/-/g, " "));
    await Promise.all([page.waitForNavigation(), page.locator("details").getByRole("button", { name: "Continue" }).click()]);
    expect(pathOf(page)).toBe("/account");
    await expect.poll(() => page.locator("#recovery-remaining").textContent()).toMatch(/9\s+unused codes left/);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Make new codes" }).click()]);
    expect(ctx.confirms).toEqual(["Make new codes? Your old codes will stop working."]);
    const shown = await page.locator("#recovery-codes code").allTextContents();
    expect(shown).toHaveLength(10);
    expect(shown.some((c) => codes.includes(c))).toBe(false);
    await ctx.closeClean();
  });
});
