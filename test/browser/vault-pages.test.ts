import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { fillSignIn, pathOf, signIn, useSessionCookie } from "../helpers/browser/portal.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";
import { VAULT_PAGES_RULES_YAML } from "../helpers/vault-rules.js";

// The secret vault's pages (docs/secrets.md) in Chromium: the dashboard's /admin/secrets and the
// account page's "Your keys". Values are write-only: after saving, no page and no response body the
// browser receives holds them; only the name and the first 4 characters are shown.

const MIN = 60_000;

/** Values long enough (≥ 16 characters) for their 4-character prefix to be shown; each prefix differs. */
const random = () => randomBytes(16).toString("hex");
const FIRST = `sk-f${random()}`;
const SECOND = `rk-s${random()}`;
const OWN = `ak-o${random()}`;
const OWN_NEW = `bk-o${random()}`;
const VALUES = [FIRST, SECOND, OWN, OWN_NEW];

/** Every response body the context's pages received (HTML, scripts, styles, redirects' empty bodies), for the leak check. */
function recordBodies(w: WatchedContext): () => Promise<string> {
  const bodies: Promise<string>[] = [];
  w.context.on("response", (res) => {
    bodies.push(
      res.body().then(
        (b) => `${res.url()}\n${b.toString("utf8")}`,
        () => res.url(), // a redirect (303) has no body to read
      ),
    );
  });
  return async () => (await Promise.all(bodies)).join("\n");
}

/** The value, or any 8-character piece of its random part, appears in `text`. */
function leaks(text: string, value: string): boolean {
  if (text.includes(value)) return true;
  for (let at = 4; at + 8 <= value.length; at++) if (text.includes(value.slice(at, at + 8))) return true;
  return false;
}

async function expectNoValueOn(page: Page): Promise<void> {
  const html = await page.content();
  for (const v of VALUES) expect(leaks(html, v), `the page holds ${v.slice(0, 4)}…`).toBe(false);
  // Nor in any form field's live value (a password field refilled by the page would be in .value, not the HTML).
  const fieldValues = (await page.evaluate(`[...document.querySelectorAll("input, textarea")].map((el) => el.value).join("\\n")`)) as string;
  for (const v of VALUES) expect(leaks(fieldValues, v)).toBe(false);
}

describeBrowser("browser: the secret vault's pages (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-browser-"));
    writeFileSync(join(dir, "gatehouse.yml"), VAULT_PAGES_RULES_YAML);
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({ GATEHOUSE_CONFIG: join(dir, "gatehouse.yml") })]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a superadmin sets, replaces and deletes a secret on /admin/secrets: only the name and the prefix are ever shown, no response carries the value", async () => {
    const sa = await gh.h.account("superadmin", uname("vaultroot"));
    const w = await watchedContext(browser);
    w.allow(/status of 403/);
    const bodies = recordBodies(w);
    const page = await w.page();
    await useSessionCookie(w.context, gh, sa.cookie);

    await page.goto(gh.url("/admin/secrets"));
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Secrets");
    expect(await page.getByText("No secrets yet.").isVisible()).toBe(true);
    // The users' own keys the rules name are explained, not listed with values.
    expect(await page.locator("section[aria-labelledby=user-keys-h] code").allTextContents()).toEqual(["anthropic"]);
    // Fresh from signing in: no password asked.
    expect(await page.getByLabel("Your password").count()).toBe(0);

    // Set.
    await page.getByLabel("Name", { exact: true }).fill("openai");
    await page.getByLabel("Value", { exact: true }).fill(FIRST);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save secret" }).click()]);
    expect(pathOf(page)).toBe("/admin/secrets");
    const row = page.locator("tbody tr").filter({ hasText: "openai" });
    expect(await row.count()).toBe(1);
    expect(await row.locator("td[data-label=Prefix]").textContent()).toBe("sk-f…");
    await expectNoValueOn(page);
    expect(await gh.h.gh.vault.render([{ header: "a", template: { parts: [{ secret: "openai" }] } }], null)).toEqual(new Map([["a", FIRST]]));

    // Replace, eleven minutes later (past the 10-minute sudo window): the form asks for the password; a wrong one is refused.
    gh.h.clock.advance(11 * MIN);
    await page.goto(gh.url("/admin/secrets"));
    await page.getByLabel("Name", { exact: true }).fill("openai");
    await page.getByLabel("Value", { exact: true }).fill(SECOND);
    await page.locator("#f-sudo-password").fill("not-my-password-7");
    const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save secret" }).click()]);
    expect(refused?.status()).toBe(403);
    expect(await page.getByRole("alert").first().textContent()).toBeTruthy();
    // The name is kept for another try, the value never.
    expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("openai");
    expect(await page.getByLabel("Value", { exact: true }).inputValue()).toBe("");
    await expectNoValueOn(page);
    expect(await row.locator("td[data-label=Prefix]").textContent()).toBe("sk-f…");

    await page.getByLabel("Value", { exact: true }).fill(SECOND);
    await page.locator("#f-sudo-password").fill(GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save secret" }).click()]);
    expect(pathOf(page)).toBe("/admin/secrets");
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(await row.locator("td[data-label=Prefix]").textContent()).toBe("rk-s…");
    await expectNoValueOn(page);
    expect((await gh.h.gh.vault.render([{ header: "a", template: { parts: [{ secret: "openai" }] } }], null)).get("a")).toBe(SECOND);

    // Delete: the confirm dialog, then the list is empty. (Re-authenticated a moment ago: no password.)
    await Promise.all([page.waitForNavigation(), row.getByRole("button", { name: "Delete" }).click()]);
    expect(w.confirms).toEqual(["Delete the secret openai? Apps stop receiving it at once."]);
    expect(pathOf(page)).toBe("/admin/secrets");
    expect(await page.getByText("No secrets yet.").isVisible()).toBe(true);
    expect(await gh.h.gh.vault.list()).toEqual([]);

    // The audit log shows the changes, never the value.
    await page.goto(gh.url("/admin/audit"));
    expect(await page.locator("tbody").getByText("secret_changed").count()).toBeGreaterThanOrEqual(3);
    await expectNoValueOn(page);

    const all = await bodies();
    expect(all.includes("<code>rk-s…</code>"), "the recorder saw the pages").toBe(true);

    for (const v of VALUES) expect(leaks(all, v), `a response carried ${v.slice(0, 4)}…`).toBe(false);
    await w.closeClean();
  });

  it("an admin (not a superadmin) is refused the secrets page", async () => {
    const admin = await gh.h.account("admin", uname("vaultadmin"));
    const w = await watchedContext(browser);
    w.allow(/status of 403/);
    const page = await w.page();
    await useSessionCookie(w.context, gh, admin.cookie);
    const res = await page.goto(gh.url("/admin/secrets"));
    expect(res?.status()).toBe(403);
    expect(await page.getByLabel("Value", { exact: true }).count()).toBe(0);
    await w.closeClean();
  });

  it("a user stores, replaces and deletes their own key in \"Your keys\": only the names the rules use are offered, and the value is never shown or sent back", async () => {
    const user = await gh.h.account("user", uname("byokuser"));
    const w = await watchedContext(browser);
    w.allow(/status of 403/);
    const bodies = recordBodies(w);
    const page = await w.page();
    await signIn(page, gh, user.name);
    expect(pathOf(page)).toBe("/account");

    const keys = page.locator("section#keys");
    expect(await keys.getByRole("heading", { name: "Your keys" }).isVisible()).toBe(true);
    // Only ${user_secret:…} names: the operator's "openai" is not offered.
    expect(await keys.getByLabel("Key", { exact: true }).locator("option").allTextContents()).toEqual(["anthropic"]);
    const row = keys.locator("tbody tr").filter({ hasText: "anthropic" });
    expect(await row.locator("td[data-label=Stored]").textContent()).toBe("not set");

    // Save (just signed in: no password).
    await keys.getByLabel("Key", { exact: true }).selectOption("anthropic");
    await keys.getByLabel("Value", { exact: true }).fill(OWN);
    expect(await keys.getByLabel("Your password").count()).toBe(0);
    await Promise.all([page.waitForNavigation(), keys.getByRole("button", { name: "Save key" }).click()]);
    expect(pathOf(page)).toBe("/account");
    expect(await row.locator("td[data-label=Stored]").textContent()).toBe("ak-o…");
    await expectNoValueOn(page);
    expect((await gh.h.gh.vault.render([{ header: "k", template: { parts: [{ userSecret: "anthropic" }] } }], user.id)).get("k")).toBe(OWN);

    // Replace after the sudo window: the password is asked; a wrong one is refused and nothing changes.
    gh.h.clock.advance(11 * MIN);
    await page.goto(gh.url("/account"));
    await keys.getByLabel("Value", { exact: true }).fill(OWN_NEW);
    await keys.getByLabel("Your password").fill("not-my-password-7");
    const [refused] = await Promise.all([page.waitForNavigation(), keys.getByRole("button", { name: "Save key" }).click()]);
    expect(refused?.status()).toBe(403);
    expect(await keys.getByText("The password is incorrect.").isVisible()).toBe(true);
    expect(await row.locator("td[data-label=Stored]").textContent()).toBe("ak-o…");
    await expectNoValueOn(page);

    await keys.getByLabel("Value", { exact: true }).fill(OWN_NEW);
    await keys.getByLabel("Your password").fill(GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), keys.getByRole("button", { name: "Save key" }).click()]);
    expect(await row.locator("td[data-label=Stored]").textContent()).toBe("bk-o…");
    await expectNoValueOn(page);
    expect((await gh.h.gh.vault.render([{ header: "k", template: { parts: [{ userSecret: "anthropic" }] } }], user.id)).get("k")).toBe(OWN_NEW);

    // Delete: the confirm dialog; the key is "not set" again.
    await Promise.all([page.waitForNavigation(), row.getByRole("button", { name: "Delete" }).click()]);
    expect(w.confirms).toEqual(["Delete your key anthropic?"]);
    expect(await row.locator("td[data-label=Stored]").textContent()).toBe("not set");
    expect((await gh.h.gh.vault.listOwn(user.id)).find((k) => k.name === "anthropic")?.stored).toBe(false);

    const all = await bodies();
    expect(all.includes("<code>bk-o…</code>"), "the recorder saw the pages").toBe(true);
    for (const v of VALUES) expect(leaks(all, v), `a response carried ${v.slice(0, 4)}…`).toBe(false);
    await w.closeClean();
  });

  it("MFA_REQUIRED=admins: a superadmin without a second factor is sent to add one; with one, the password and the code lead back to /admin/secrets, where saving works", async () => {
    const factors = secondFactorDouble();
    const strict = await startLiveGatehouse({ GATEHOUSE_CONFIG: join(dir, "gatehouse.yml"), MFA_REQUIRED: "admins" }, undefined, {
      secondFactors: factors.secondFactors,
      secondFactorVerifiers: factors.secondFactorVerifiers,
    });
    try {
      const sa = await strict.h.account("superadmin", uname("vaultmfa"));
      const w = await watchedContext(browser);
      w.allow(/status of 40[13]/);
      const page = await w.page();

      // No factor: the dashboard sends to the page where one is added; the secrets form is never shown.
      await useSessionCookie(w.context, strict, sa.cookie);
      await page.goto(strict.url("/admin/secrets"));
      expect(pathOf(page)).toBe("/account/mfa");
      expect(await page.getByRole("button", { name: "Save secret" }).count()).toBe(0);
      await w.context.clearCookies();

      // With a factor: password, then the code, then back on the secrets page.
      factors.enrolled.add(sa.id);
      await page.goto(strict.url("/login?return=%2Fadmin%2Fsecrets"));
      await fillSignIn(page, sa.name);
      // The sign-in answer is the second-factor form.
      expect(await page.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
      await page.getByLabel("Code").fill(TEST_CODE);
      await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Continue" }).click()]);
      expect(pathOf(page)).toBe("/admin/secrets");
      await page.getByLabel("Name", { exact: true }).fill("openai");
      await page.getByLabel("Value", { exact: true }).fill(FIRST);
      await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save secret" }).click()]);
      expect(await page.locator("tbody tr").filter({ hasText: "openai" }).locator("td[data-label=Prefix]").textContent()).toBe("sk-f…");
      await expectNoValueOn(page);
      await w.closeClean();
    } finally {
      await strict.close();
    }
  });
});
