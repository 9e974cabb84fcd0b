import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { fillSignIn, pathOf, signIn, signOut } from "../helpers/browser/portal.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";

/**
 * Chromium's virtual authenticator (DevTools protocol): a platform
 * authenticator with resident keys and user verification, as a phone or a
 * laptop's screen lock is.
 */
async function virtualAuthenticator(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return cdp;
}

describeBrowser("passkeys in the browser (MFA-06; sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  beforeAll(async () => {
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({}, undefined, { hostname: "localhost" })]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
  });

  /** Registers a passkey from the account page with the virtual authenticator of `page`. */
  async function addPasskey(page: Page, name: string): Promise<void> {
    await page.goto(gh.url("/account"));
    const form = page.locator("form[data-passkey-add]");
    await expect.poll(() => form.isVisible()).toBe(true);
    await form.getByLabel("Passkey name").fill(name);
    await Promise.all([page.waitForEvent("load"), form.getByRole("button", { name: "Add a passkey" }).click()]);
    await expect.poll(() => page.locator("#passkeys table").textContent()).toContain(name);
  }

  async function fresh(): Promise<{ w: WatchedContext; page: Page }> {
    const w = await watchedContext(browser);
    const page = await w.page();
    return { w, page };
  }

  it("registration on /account, then the passkey as the second factor after the password, then passwordless sign-in", async () => {
    const me = await gh.h.account();
    const { w, page } = await fresh();
    await virtualAuthenticator(page);
    await signIn(page, gh, me.name);
    expect(pathOf(page)).toBe("/account");
    await addPasskey(page, "Virtual key");
    const [row] = await gh.h.gh.database.db.selectFrom("webauthn_credentials").selectAll().where("user_id", "=", me.id).execute();
    expect(row).toMatchObject({ name: "Virtual key" });

    // Sign out, then the password asks for the passkey: "Use a passkey" completes the sign-in.
    await signOut(page);
    await fillSignIn(page, me.name);
    await expect.poll(() => page.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
    await Promise.all([page.waitForURL(/\/account$/), page.getByRole("button", { name: "Use a passkey" }).click()]);
    await expect.poll(() => page.locator("body").textContent()).toContain("2 factors");
    const amrs = async () => (await gh.h.gh.stores.audit.list({ userId: me.id, type: "login_success", limit: 10 })).map((e) => e.details.amr).sort();
    expect(await amrs()).toEqual(["pwd", "pwd hwk"]);

    // Sign out, then no username at all: "Sign in with a passkey" (discoverable, user verified).
    await signOut(page);
    await Promise.all([page.waitForURL(/\/account$/), page.getByRole("button", { name: "Sign in with a passkey" }).click()]);
    expect(await amrs()).toEqual(["hwk mfa", "pwd", "pwd hwk"]);
    const passwordless = (await gh.h.gh.stores.audit.list({ userId: me.id, type: "login_success", limit: 10 })).find((e) => e.details.amr === "hwk mfa");
    expect(passwordless?.details).toMatchObject({ method: "hardware_key", aal: "aal2" });

    // Rename it on the account page.
    const rename = page.locator("form[data-passkey-rename]");
    await rename.locator("input[name=name]").fill("Renamed key");
    await Promise.all([page.waitForEvent("load"), rename.getByRole("button", { name: "Rename" }).click()]);
    await expect.poll(() => page.locator("#passkeys table").textContent()).toContain("Renamed key");
    await w.closeClean();
  });

  it("removing a passkey from /account (recent sign-in) audits webauthn_removed", async () => {
    const me = await gh.h.account();
    const { w, page } = await fresh();
    await virtualAuthenticator(page);
    await signIn(page, gh, me.name);
    await addPasskey(page, "Short-lived");
    // A fresh sign-in is no recent re-authentication: the form asks for the password.
    const remove = page.locator("form[data-passkey-remove]");
    const password = remove.locator("input[name=password]");
    if ((await password.count()) > 0) await password.fill(GOOD_PASSWORD);
    await Promise.all([page.waitForEvent("load"), remove.getByRole("button", { name: "Remove" }).click()]);
    await expect.poll(() => page.locator("#passkeys").textContent()).toContain("You have no passkeys.");
    expect(w.confirms.some((q) => q.startsWith("Remove this passkey?"))).toBe(true);
    expect(await gh.h.gh.stores.audit.list({ userId: me.id, type: "webauthn_removed", limit: 5 })).toHaveLength(1);
    await w.closeClean();
  });
});
