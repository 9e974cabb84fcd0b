import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { pathOf, signIn, useSessionCookie } from "../helpers/browser/portal.js";
import { saveScreenshot } from "../helpers/browser/screenshots.js";
import { measurePageWeight, savePageWeights, type PageWeight } from "../helpers/browser/page-weight.js";
import { seedDemoData } from "../helpers/browser/seed.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Script payloads that must only ever be shown as text (HDR-06). */
const IMG_PAYLOAD = "<img src=x onerror=alert(1)>";
const SVG_PAYLOAD = '"><svg onload=alert(1)>';
/** The same payloads without spaces, so they pass as an email address (which cannot contain spaces). */
const EMAIL_IMG = "<img/src/onerror=alert(1)>@xss.test";
const EMAIL_SVG = '"><svg/onload=alert(1)>@xss.test';
const UA_PAYLOAD = `Mozilla/5.0 ${IMG_PAYLOAD} ${SVG_PAYLOAD}`;

/** True when `text` appears literally in the page: as text, or as an attribute value (a `title`, an input's value). */
async function showsLiterally(page: Page, text: string): Promise<boolean> {
  return page.evaluate(`(() => {
    const t = ${JSON.stringify(text)};
    if ((document.body.textContent || "").includes(t)) return true;
    for (const el of document.querySelectorAll("*")) {
      for (const a of el.attributes) if (a.value.includes(t)) return true;
      if ("value" in el && typeof el.value === "string" && el.value.includes(t)) return true;
    }
    return false;
  })()`);
}

/** Elements a payload would have created if it had been parsed as markup. */
async function injectedElements(page: Page): Promise<number> {
  return page.locator("[onerror], [onload], img[src=x]").count();
}

describeBrowser("browser: the admin dashboard (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let superadmin: { name: string; id: string };
  let admin: { name: string; id: string };
  const contexts: WatchedContext[] = [];

  /** A watched context, closed (and checked) at the end of the test that opened it. */
  async function context(options: Parameters<typeof watchedContext>[1] = {}) {
    const w = await watchedContext(browser, options);
    contexts.push(w);
    return w;
  }
  async function closeAll() {
    for (const w of contexts.splice(0)) await w.closeClean();
  }
  /** Signs `name` in without the form (sign-in itself is tested in portal.test.ts): a fresh session cookie in the page's context. */
  async function signedInAs(page: Page, name: string) {
    const { cookie } = await gh.h.login(name);
    await useSessionCookie(page.context(), gh, cookie);
  }
  async function roleOf(id: string) {
    return (await gh.h.gh.database.db.selectFrom("users").select("role").where("id", "=", id).executeTakeFirstOrThrow()).role;
  }
  async function openUser(page: Page, name: string) {
    await page.goto(gh.url(`/admin/users?q=${encodeURIComponent(name)}`));
    await Promise.all([page.waitForNavigation(), page.getByRole("link", { name, exact: true }).click()]);
    expect(pathOf(page)).toMatch(/^\/admin\/users\/[0-9a-f-]{36}$/);
  }

  beforeAll(async () => {
    // The clock starts a week back so the seeded sign-ins fill the overview chart; seeding runs it to about now.
    const clock = createManualClock(Date.now() - 7 * 24 * HOUR - 15 * MIN);
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({}, clock)]);
    const seeded = await seedDemoData(gh.h);
    superadmin = seeded.superadmin;
    admin = seeded.admin;
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
  });

  it("screenshots of the dashboard: overview, users, a user, the audit log", async () => {
    const w = await context();
    const page = await w.page();
    await signedInAs(page, superadmin.name);
    await page.goto(gh.url("/admin"));
    expect(await page.locator("svg").count()).toBeGreaterThanOrEqual(1);
    await saveScreenshot(page, "admin-overview");
    await page.goto(gh.url("/admin/users"));
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(10);
    await saveScreenshot(page, "admin-users");
    await openUser(page, "alice.nguyen");
    await saveScreenshot(page, "admin-user");
    await page.goto(gh.url("/admin/audit"));
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(10);
    await saveScreenshot(page, "admin-audit", { fullPage: false });
    const dark = await context({ colorScheme: "dark" });
    const night = await dark.page();
    await signedInAs(night, superadmin.name);
    await night.goto(gh.url("/admin"));
    await saveScreenshot(night, "admin-overview-dark");
    await closeAll();
  });

  it("an admin blocks a user: the user's open page is signed out on its next navigation, and signing in is refused", async () => {
    const victim = await gh.h.account("user", uname("blockme"));
    const userSide = await context();
    userSide.allow(/status of 403/);
    const u = await userSide.page();
    await signIn(u, gh, victim.name);
    expect(pathOf(u)).toBe("/account");

    const adminSide = await context();
    const a = await adminSide.page();
    await signedInAs(a, admin.name);
    await openUser(a, victim.name);
    await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Block", exact: true }).click()]);
    expect(adminSide.confirms).toEqual([`Block ${victim.name}? Every session of this user ends at once.`]);
    expect(await a.getByRole("status").first().textContent()).toContain("The user is blocked");
    expect(await a.locator("dl").getByText("Blocked").isVisible()).toBe(true);

    // The user's tab: the next click lands on the sign-in page; signing in again says the account is blocked.
    await u.goto(gh.url("/account"));
    expect(pathOf(u)).toBe("/login");
    await signIn(u, gh, victim.name);
    expect(pathOf(u)).toBe("/login");
    expect(await u.getByRole("alert").textContent()).toMatch(/blocked/i);

    // Unblocked, the user can sign in again.
    await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Unblock", exact: true }).click()]);
    await signIn(u, gh, victim.name);
    expect(pathOf(u)).toBe("/account");
    await closeAll();
  });

  it("role change with the sudo prompt: a stale superadmin session must type its password (a wrong one is refused), then the change ends the user's sessions", async () => {
    const target = await gh.h.account("user", uname("promote"));
    const userSide = await context();
    const u = await userSide.page();
    await signIn(u, gh, target.name);

    const sa = await context();
    sa.allow(/status of 403/);
    const a = await sa.page();
    await signedInAs(a, superadmin.name);
    await openUser(a, target.name);
    // Fresh from signing in: the confirmation step asks for no password.
    await a.getByLabel("Role", { exact: true }).selectOption("admin");
    await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Change role…" }).click()]);
    expect(await a.getByRole("heading", { level: 1 }).textContent()).toContain(`Change role of ${target.name}?`);
    expect(await a.getByLabel("Your password").count()).toBe(0);
    await Promise.all([a.waitForNavigation(), a.getByRole("link", { name: "Cancel" }).click()]);

    // Eleven minutes later (the sudo window is ten), the same step prompts for the password.
    gh.h.clock.advance(11 * MIN);
    await a.getByLabel("Role", { exact: true }).selectOption("admin");
    await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Change role…" }).click()]);
    await a.getByLabel("Your password").fill("not-my-password-7");
    const [refused] = await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Change role to admin" }).click()]);
    expect(refused?.status()).toBe(403);
    expect(await a.getByRole("alert").textContent()).toBeTruthy();
    expect(await roleOf(target.id)).toBe("user");

    await a.getByLabel("Your password").fill(GOOD_PASSWORD);
    await Promise.all([a.waitForNavigation(), a.getByRole("button", { name: "Change role to admin" }).click()]);
    expect(pathOf(a)).toBe(`/admin/users/${target.id}`);
    expect(await roleOf(target.id)).toBe("admin");
    expect(await a.getByRole("status").first().textContent()).toContain("The role was changed");
    expect(await a.locator("dl").getByText("admin", { exact: true }).isVisible()).toBe(true);
    expect(await a.locator("tbody").getByText("role_change").count()).toBeGreaterThanOrEqual(1);

    // The promoted user's open page is signed out; signing in again shows the Admin link.
    await u.goto(gh.url("/account"));
    expect(pathOf(u)).toBe("/login");
    await signIn(u, gh, target.name);
    expect(await u.locator("header").getByRole("link", { name: "Admin" }).isVisible()).toBe(true);
    await closeAll();
  });

  it("stored XSS: script payloads in email and User-Agent are shown literally on every admin page, and no dialog fires", async () => {
    // Usernames cannot carry markup at all (letters, digits, '.', '_', '-'): the API refuses the payload.
    const refused = await gh.h.request({ method: "POST", url: "/api/auth/register", json: { username: IMG_PAYLOAD, password: GOOD_PASSWORD } });
    expect(refused.statusCode).toBe(400);

    const names = [uname("xssimg"), uname("xsssvg")];
    const emails = [EMAIL_IMG, EMAIL_SVG];
    for (let i = 0; i < 2; i++) {
      const res = await gh.h.request({
        method: "POST",
        url: "/api/auth/register",
        headers: { "user-agent": UA_PAYLOAD },
        json: { username: names[i], password: GOOD_PASSWORD, email: emails[i] },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    // And a real browser with that User-Agent signs in (a session and a login_success event carry it).
    const attacker = await context({ userAgent: UA_PAYLOAD });
    await signIn(await attacker.page(), gh, names[0]!);

    const w = await context();
    const page = await w.page();
    await signedInAs(page, admin.name);
    const visits: { path: string; literal: string[] }[] = [
      { path: "/admin", literal: [] },
      { path: "/admin/users", literal: emails },
      { path: `/admin/users?q=${encodeURIComponent(SVG_PAYLOAD)}`, literal: [SVG_PAYLOAD] },
      { path: `/admin/users?q=${encodeURIComponent("<img/src/")}`, literal: [EMAIL_IMG] },
      { path: "/admin/audit", literal: [UA_PAYLOAD] },
      { path: `/admin/audit?user=${encodeURIComponent(EMAIL_SVG)}`, literal: [EMAIL_SVG, UA_PAYLOAD] },
      { path: `/admin/audit?user=${encodeURIComponent(IMG_PAYLOAD)}`, literal: [IMG_PAYLOAD] },
    ];
    for (const visit of visits) {
      await page.goto(gh.url(visit.path));
      for (const text of visit.literal) expect(await showsLiterally(page, text), `${visit.path} shows ${text}`).toBe(true);
      expect(await injectedElements(page), visit.path).toBe(0);
    }
    for (const name of names) {
      await openUser(page, name);
      expect(await showsLiterally(page, UA_PAYLOAD)).toBe(true);
      expect(await injectedElements(page)).toBe(0);
    }
    expect(await showsLiterally(page, EMAIL_SVG)).toBe(true);
    expect(w.dialogs).toEqual([]);
    await closeAll();
  });

  it("banned IPs: an admin sees a ban and lifts it (with a confirmation); the IP is let in again", async () => {
    const ip = "203.0.113.66";
    await gh.h.gh.limiter.ban(ip, gh.h.clock.now() + HOUR);
    expect(await gh.h.gh.bans.banRemainingMs(ip)).toBeGreaterThan(0);
    const w = await context();
    const page = await w.page();
    await signedInAs(page, admin.name);
    await page.goto(gh.url("/admin/bans"));
    const row = page.locator("tbody tr").filter({ hasText: ip });
    expect(await row.count()).toBe(1);
    await saveScreenshot(page, "admin-bans", { fullPage: false });
    await Promise.all([page.waitForNavigation(), row.getByRole("button", { name: "Lift ban" }).click()]);
    expect(w.confirms).toEqual([`Lift the ban of ${ip}?`]);
    expect(await page.getByRole("status").first().textContent()).toContain("The ban was lifted");
    expect(await page.locator("tbody tr").filter({ hasText: ip }).count()).toBe(0);
    expect(await gh.h.gh.bans.banRemainingMs(ip)).toBe(0);
    await closeAll();
  });

  it("settings (superadmin, sudo): turning registration off closes /register at once; an admin cannot open the settings", async () => {
    const w = await context();
    w.allow(/status of 403/);
    const page = await w.page();
    await signedInAs(page, superadmin.name);
    // Signed in 11 minutes ago: past the sudo window, so saving asks for the password.
    gh.h.clock.advance(11 * MIN);
    await page.goto(gh.url("/admin/settings"));
    await page.getByLabel("Who may create an account").selectOption("closed");
    const sudo = page.getByLabel("Your password");
    expect(await sudo.count()).toBe(1);
    await sudo.fill(GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save settings" }).click()]);
    expect(await page.getByRole("status").first().textContent()).toContain("The settings were saved");
    const anon = await context();
    anon.allow(/status of 403/);
    const visitor = await anon.page();
    const closed = await visitor.goto(gh.url("/register"));
    expect(closed?.status()).toBe(403);
    expect(await visitor.getByRole("heading", { level: 1 }).textContent()).toContain("Registration is closed");
    // Back on, for the tests that follow.
    await page.getByLabel("Who may create an account").selectOption("open");
    if ((await sudo.count()) > 0) await sudo.fill(GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save settings" }).click()]);
    expect((await visitor.goto(gh.url("/register")))?.status()).toBe(200);

    const adminSide = await context();
    adminSide.allow(/status of 403/);
    const a = await adminSide.page();
    await signedInAs(a, admin.name);
    await a.goto(gh.url("/admin"));
    expect(await a.locator("nav[aria-label=Administration]").getByRole("link", { name: "Users" }).count()).toBe(1);
    expect(await a.locator("nav[aria-label=Administration]").getByRole("link", { name: "Settings" }).count()).toBe(0);
    expect((await a.goto(gh.url("/admin/settings")))?.status()).toBe(403);
    await closeAll();
  });

  it("CSV injection: the audit export downloads from the page, and a User-Agent that starts with = is neutralized in the file", async () => {
    const formula = '=HYPERLINK("https://evil.test","click")';
    await gh.h.request({ method: "POST", url: "/api/auth/login", headers: { "user-agent": formula }, json: { username: "nobody-here", password: "wrong-password-3" } });
    const w = await context();
    const page = await w.page();
    await signedInAs(page, admin.name);
    await page.goto(gh.url("/admin/audit?type=login_failure"));
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^gatehouse-audit-.*\.csv$/);
    const { readFile } = await import("node:fs/promises");
    const csv = await readFile((await download.path())!, "utf8");
    // The cell is quoted (it holds quotes and a comma) and starts with a ' so no spreadsheet evaluates it.
    expect(csv).toContain(`"'=HYPERLINK(""https://evil.test"",""click"")"`);
    for (const line of csv.split(/\r?\n/)) {
      for (const cell of line.split(",")) expect(cell.replace(/^"/, ""), line).not.toMatch(/^[=+\-@]/);
    }
    await closeAll();
  });

  it("page weight: every page loads only Gatehouse's own HTML, CSS and JS, under 150 KB each (measured into artifacts/page-weight.json)", async () => {
    const anonymous = await context();
    const signedIn = await context();
    const requested: string[] = [];
    for (const w of [anonymous, signedIn]) w.context.on("request", (r) => void requested.push(r.url()));
    const anon = await anonymous.page();
    const page = await signedIn.page();
    await signedInAs(page, superadmin.name);
    const weights: PageWeight[] = [];
    for (const path of ["/login", "/register"]) weights.push(await measurePageWeight(anon, gh.url(path)));
    for (const path of ["/account", "/admin", "/admin/users", `/admin/users/${admin.id}`, "/admin/audit", "/admin/bans", "/admin/settings"]) {
      weights.push(await measurePageWeight(page, gh.url(path)));
    }
    savePageWeights(weights);
    console.log(`page weight (bytes; TTFB over loopback, ms):\n${weights.map((w) => `  ${w.page.padEnd(50)} html ${w.html} css ${w.css} js ${w.js} total ${w.total} gzip ${w.gzipTotal} ttfb ${w.ttfbMs}`).join("\n")}`);
    for (const w of weights) expect(w.total, w.page).toBeLessThan(150_000);
    expect(requested.filter((u) => !u.startsWith(gh.origin))).toEqual([]);
    await closeAll();
  });

  it("on a phone-sized screen the dashboard pages do not scroll sideways (wide tables scroll inside their card)", async () => {
    const w = await context({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await w.page();
    await signedInAs(page, superadmin.name);
    for (const path of ["/account", "/admin", "/admin/users", `/admin/users/${admin.id}`, "/admin/audit"]) {
      await page.goto(gh.url(path));
      const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await saveScreenshot(page, "admin-audit-phone", { fullPage: false });
    await closeAll();
  });

  it("authorization: a signed-in user who is not an admin is refused every dashboard page (403), and no admin data shows", async () => {
    const plain = await gh.h.account("user", uname("nosy"));
    const w = await context();
    w.allow(/status of 403/);
    const page = await w.page();
    await signIn(page, gh, plain.name);
    for (const path of ["/admin", "/admin/users", `/admin/users/${admin.id}`, "/admin/audit"]) {
      const res = await page.goto(gh.url(path));
      expect(res?.status(), path).toBe(403);
      expect(await page.getByText(admin.name).count(), path).toBe(0);
    }
    await closeAll();
  });
});
