import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { fillSignIn, pathOf } from "../helpers/browser/portal.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";

const NEW_PASSWORD = "harbor-velvet-quartz-77";

describeBrowser("browser: forgot password, reset and email verification pages (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({ SMTP_URL: sink.url })]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await sink?.stop();
  });

  async function linkFor(email: string): Promise<string> {
    await gh.h.gh.mail.flush();
    const link = sink.to(email).at(-1)?.link;
    if (!link) throw new Error(`no link mailed to ${email}`);
    return link;
  }

  it("sign in → forgot → mailed link: the token leaves the address bar, no request carries it, the reset works", async () => {
    const name = uname("fern");
    const email = `${name}@example.test`;
    await gh.h.register(name, GOOD_PASSWORD, email);
    const ctx = await watchedContext(browser);
    const page = await ctx.page();
    const requests: Request[] = [];
    page.on("request", (r) => requests.push(r));

    await page.goto(gh.url("/login"));
    await page.getByRole("link", { name: /forgot your password/i }).click();
    expect(pathOf(page)).toBe("/forgot-password");
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Check your email" }).isVisible()).toBe(true);

    const link = await linkFor(email);
    const token = decodeURIComponent(link.slice(link.indexOf("#token=") + 7));
    expect(new URL(link).origin).toBe(gh.origin);
    await page.goto(link);
    await expect.poll(() => new URL(page.url()).hash).toBe("");
    expect(await page.locator("input[name=token]").inputValue()).toBe(token);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Set the new password" }).click();
    await expect.poll(() => pathOf(page)).toBe("/login");
    await expect.poll(() => page.getByRole("status").textContent()).toMatch(/password was reset/i);

    // The token never travelled in a URL or a Referer, and nothing left the origin.
    for (const r of requests) {
      expect(r.url().startsWith(gh.origin), r.url()).toBe(true);
      expect(r.url()).not.toContain(token);
      expect((await r.allHeaders()).referer ?? "").not.toContain(token);
    }
    await fillSignIn(page, name, { password: NEW_PASSWORD });
    expect(pathOf(page)).toBe("/account");
    await ctx.closeClean();
  });

  it("the verification link's landing page confirms only when the button is pressed", async () => {
    const name = uname("vale");
    const email = `${name}@example.test`;
    await gh.h.register(name, GOOD_PASSWORD, email);
    await gh.h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email } });
    const link = await linkFor(email);
    const ctx = await watchedContext(browser);
    const page = await ctx.page();
    await page.goto(link);
    await expect.poll(() => new URL(page.url()).hash).toBe("");
    const before = await gh.h.gh.stores.users.findByLogin({ email });
    expect(before?.emailVerified).toBe(false);
    await page.getByRole("button", { name: "Confirm my address" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toMatch(/address is confirmed/i);
    const after = await gh.h.gh.stores.users.findByLogin({ email });
    expect(after?.emailVerified).toBe(true);
    await ctx.closeClean();
  });
});
