import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { pathOf, signIn, signOut } from "../helpers/browser/portal.js";
import { saveScreenshot } from "../helpers/browser/screenshots.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";
import { startTestIdp, type TestIdp } from "../helpers/oauth/test-idp.js";

describeBrowser("browser: linking, using and unlinking an identity provider from /account (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let idp: TestIdp;
  beforeAll(async () => {
    idp = await startTestIdp();
    const provider = providerSettings({ issuer: idp.issuer, clientId: "gatehouse", clientSecret: "test-client-secret-0123456789", caFile: idp.caFile });
    // The test IdP serves a self-signed certificate: Gatehouse trusts it through ca_file, Chromium by this flag.
    [browser, gh] = await Promise.all([launchChromium(["--ignore-certificate-errors"]), startLiveGatehouse({}, undefined, { providers: [provider] })]);
    await idp.registerClient({ client_id: provider.clientId, client_secret: provider.clientSecret, redirect_uris: [gh.url(`/api/auth/oauth/${provider.id}/callback`)] });
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await idp?.close();
  });

  /** On the IdP's sign-in page (when it asks: a second visit may be single sign-on), signs in as `login`. */
  async function idpSignIn(page: Page, login: string, password: string): Promise<void> {
    await page.waitForURL((url) => url.origin === idp.issuer || url.origin === gh.origin);
    if (new URL(page.url()).origin !== idp.issuer) return;
    expect(await page.title()).toBe("Test IdP sign-in");
    await page.getByLabel("Login").fill(login);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  it("a password user links Test IdP, sees it listed, signs in with it after signing out, and unlinks it", async () => {
    const name = uname("link");
    await gh.h.gh.accounts.register({ username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, { ip: "127.0.0.1", userAgent: "test" }, { signIn: false });
    const login = uname("idp");
    idp.addUser({ sub: `sub-${login}`, login, password: `pw-${login}`, email: `${name}@corp.example`, email_verified: true, preferred_username: login });

    const ctx = await watchedContext(browser);
    const page = await ctx.page();
    await signIn(page, gh, name);
    expect(pathOf(page)).toBe("/account");
    const section = page.locator("section#identities");
    expect(await section.getByText("No linked accounts.").isVisible()).toBe(true);

    // Link: the account page's form → the IdP's sign-in → back on /account with the notice.
    await section.getByRole("button", { name: "Link Test IdP" }).click();
    await idpSignIn(page, login, `pw-${login}`);
    await page.waitForURL((url) => url.origin === gh.origin && url.pathname === "/account");
    expect(new URL(page.url()).searchParams.get("notice")).toBe("provider_linked");
    expect(await page.getByText("Linked.", { exact: true }).isVisible()).toBe(true);
    const row = section.locator('tr[data-identity="test-idp"]');
    expect(await row.locator('td[data-label="Provider"]').textContent()).toBe("Test IdP");
    expect(await row.locator('td[data-label="Email"]').textContent()).toBe(`${name}@corp.example`);
    expect(await section.getByRole("button", { name: "Link Test IdP" }).count()).toBe(0);
    await row.scrollIntoViewIfNeeded();
    await saveScreenshot(page, "account-linked-identity", { fullPage: false });

    // Sign out, then in with the provider's button.
    await signOut(page);
    await page.getByRole("link", { name: "Sign in with Test IdP" }).click();
    await idpSignIn(page, login, `pw-${login}`);
    await page.waitForURL((url) => url.origin === gh.origin && url.pathname === "/account");
    expect(await page.locator("header").getByText(name).count()).toBeGreaterThan(0);

    // Unlink (the sign-in was just now: no password asked); the page asks to confirm first.
    await section.locator('tr[data-identity="test-idp"]').getByRole("button", { name: "Unlink" }).click();
    await page.waitForURL((url) => url.searchParams.get("notice") === "provider_unlinked");
    expect(ctx.confirms).toEqual(["Unlink Test IdP? You will no longer sign in with it."]);
    expect(await section.getByText("No linked accounts.").isVisible()).toBe(true);
    expect(await section.getByRole("button", { name: "Link Test IdP" }).isVisible()).toBe(true);
    await ctx.closeClean();
  });
});
