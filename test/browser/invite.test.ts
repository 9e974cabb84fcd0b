import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { pathOf } from "../helpers/browser/portal.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";

describeBrowser("browser: accepting an invitation on /invite, registration closed (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    // REGISTRATION "" = the shipped default, closed: only the invitation lets anyone in.
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({ SMTP_URL: sink.url, REGISTRATION: "" })]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await sink?.stop();
  });

  async function invite(): Promise<{ email: string; link: string; token: string }> {
    const email = `${uname("inv")}@example.test`;
    const created = await gh.h.gh.invitations.create({ user: null, origin: { ip: "127.0.0.1", userAgent: "test" } }, { email });
    await gh.h.gh.mail.flush();
    const link = sink.to(email).at(-1)?.link;
    if (!link) throw new Error(`no link mailed to ${email}`);
    expect(link).toBe(created.link);
    return { email, link, token: decodeURIComponent(link.slice(link.indexOf("#token=") + 7)) };
  }

  it("the mailed link: the script moves the token into the hidden form, drops it from the address bar; no request carries it; the account is created signed in", async () => {
    const { email, link, token } = await invite();
    expect(new URL(link).origin).toBe(gh.origin);
    const ctx = await watchedContext(browser);
    const page = await ctx.page();
    const requests: Request[] = [];
    page.on("request", (r) => requests.push(r));
    await page.goto(link);
    await expect.poll(() => new URL(page.url()).hash).toBe("");
    expect(await page.locator("input[name=invitation]").inputValue()).toBe(token);
    expect(await page.locator("input[name=invitation]").isVisible()).toBe(false);
    const name = uname("ivan");
    await page.getByLabel("Username").fill(name);
    await page.getByLabel("Password", { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => pathOf(page)).toBe("/account");
    expect(await page.content()).toContain(name);
    for (const r of requests) {
      expect(r.url(), r.url()).not.toContain(token);
      expect((await r.allHeaders()).referer ?? "").not.toContain(token);
    }
    expect((await gh.h.gh.stores.users.findByLogin({ username: name.toLowerCase() }))?.email).toBe(email);
    await ctx.closeClean();
  });

  it("with JavaScript off, the page offers a visible field to paste the code", async () => {
    const { token } = await invite();
    const ctx = await watchedContext(browser, { javaScriptEnabled: false });
    const page = await ctx.page();
    await page.goto(gh.url("/invite"));
    const code = page.getByLabel("Invitation code");
    expect(await code.isVisible()).toBe(true);
    await code.fill(token);
    const name = uname("nojs");
    await page.getByLabel("Username").fill(name);
    await page.getByLabel("Password", { exact: true }).fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => pathOf(page)).toBe("/account");
    await ctx.closeClean();
  });
});
