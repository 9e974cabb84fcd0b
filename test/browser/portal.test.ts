import type { Browser, Route } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { csrfTokenOn, fillRegister, fillSignIn, pathOf, plantCsrfToken, sessionRows, signIn, signOut, signOutButton } from "../helpers/browser/portal.js";
import { saveScreenshot } from "../helpers/browser/screenshots.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";

/** REDIR-01's payloads, as they appear in the URL (the server decodes once). */
const REDIRECT_PAYLOADS = [
  "//evil.test",
  "/\\evil.test",
  "\\\\evil.test",
  "/%09/evil.test",
  "/%2F%2Fevil.test",
  "%2F%2Fevil.test",
  "https://evil.test",
  "https:evil.test",
  "https://127.0.0.1.evil.test",
  "https://evil127.0.0.1",
  "https://127.0.0.1@evil.test",
  "javascript:alert(1)",
  "data:text/html,x",
  "/%0d%0aSet-Cookie:x=y",
];

describeBrowser("browser: the portal — sign up, sign in, account, sessions (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  beforeAll(async () => {
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse()]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
  });

  it("sign up → sign out → sign in → account → revoke the other session: the other browser is signed out on its next navigation", async () => {
    const name = "alice.nguyen";
    const laptop = await watchedContext(browser, { userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" });
    const phone = await watchedContext(browser, { userAgent: "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36" });
    const a = await laptop.page();
    await a.goto(gh.url("/register"));
    await saveScreenshot(a, "register");
    await fillRegister(a, { username: name, email: `${name}@example.test` });
    expect(pathOf(a)).toBe("/account");
    await expect.poll(() => a.getByText(name).first().isVisible()).toBe(true);
    await signOut(a);
    await expect.poll(() => a.getByRole("status").textContent()).toMatch(/signed out/i);
    await a.goto(gh.url("/login"));
    await saveScreenshot(a, "login");
    await fillSignIn(a, name);
    expect(pathOf(a)).toBe("/account");

    const b = await phone.page();
    await signIn(b, gh, `${name}@example.test`);
    expect(pathOf(b)).toBe("/account");

    // The laptop lists both sessions, marks its own, and revokes the phone's.
    await a.reload();
    const rows = sessionRows(a);
    await expect.poll(() => rows.count()).toBe(2);
    await expect.poll(() => a.getByText("This device").count()).toBeGreaterThanOrEqual(1);
    await saveScreenshot(a, "account");
    const other = rows.filter({ hasText: "Android" });
    expect(await other.count()).toBe(1);
    await Promise.all([a.waitForNavigation(), other.getByRole("button", { name: "Sign out", exact: true }).click()]);
    expect(laptop.confirms).toEqual(["Sign out this session?"]);
    expect(await a.getByRole("status").textContent()).toContain("The session was signed out");
    expect(await sessionRows(a).count()).toBe(1);

    // The phone's next navigation lands on the sign-in page; the laptop stays signed in.
    await b.goto(gh.url("/account"));
    expect(pathOf(b)).toBe("/login");
    await a.goto(gh.url("/account"));
    expect(pathOf(a)).toBe("/account");
    await laptop.closeClean();
    await phone.closeClean();
  });

  it("sign in with JavaScript disabled: the forms work (sign in, account, sign out) without a script", async () => {
    const { name } = await gh.h.account("user", uname("nojs"));
    const w = await watchedContext(browser, { javaScriptEnabled: false });
    const page = await w.page();
    await signIn(page, gh, name);
    expect(pathOf(page)).toBe("/account");
    expect(await page.getByText(name).first().isVisible()).toBe(true);
    // Signing out is a POST: a GET of /logout (a link or an <img> on another site) signs nobody out.
    w.allow(/status of 40[45]/);
    const get = await page.goto(gh.url("/logout"));
    expect([404, 405]).toContain(get?.status());
    await page.goto(gh.url("/account"));
    expect(pathOf(page)).toBe("/account");
    await signOut(page);
    await page.goto(gh.url("/account"));
    expect(pathOf(page)).toBe("/login");
    await w.closeClean();
  });

  it("a wrong password shows docs/api.md's message on the form, and the username is kept", async () => {
    const { name } = await gh.h.account("user", uname("wrongpw"));
    const w = await watchedContext(browser);
    w.allow(/status of 401/);
    const page = await w.page();
    await signIn(page, gh, name, { password: "not-the-password-1" });
    expect(pathOf(page)).toBe("/login");
    expect(await page.getByRole("alert").textContent()).toContain("Invalid username or password");
    expect(await page.getByLabel("Username or email").inputValue()).toBe(name);
    expect(await page.getByLabel("Password", { exact: true }).inputValue()).toBe("");
    await w.closeClean();
  });

  it("open redirect: every REDIR-01 payload on ?return= keeps the browser on Gatehouse, signed in or signing in", async () => {
    const { name } = await gh.h.account("user", uname("redir"));
    const w = await watchedContext(browser);
    const offsite: string[] = [];
    await w.context.route(
      (url) => !url.href.startsWith(gh.origin),
      (route: Route) => {
        offsite.push(route.request().url());
        return route.fulfill({ status: 200, contentType: "text/html", body: "<p>evil</p>" });
      },
    );
    const page = await w.page();
    // Signing in with a payload: the POST's redirect falls back to the account page.
    await signIn(page, gh, name, { returnTo: "//evil.test" });
    expect(page.url()).toBe(gh.url("/account"));
    // A legitimate same-origin target is honoured.
    await page.goto(gh.url(`/login?return=${encodeURIComponent("/account?from=return")}`));
    expect(page.url()).toBe(gh.url("/account?from=return"));
    // Already signed in, /login?return=… redirects at once: every payload stays on Gatehouse.
    for (const payload of REDIRECT_PAYLOADS) {
      await page.goto(`${gh.origin}/login?return=${payload}`);
      expect(new URL(page.url()).origin, payload).toBe(gh.origin);
      expect(pathOf(page), payload).toBe("/account");
    }
    // And signing in through the form with each payload (fresh cookies each time).
    for (const payload of ["//evil.test", "/\\evil.test", "https://evil.test"]) {
      await w.context.clearCookies();
      await signIn(page, gh, name, { returnTo: payload });
      expect(page.url(), payload).toBe(gh.url("/account"));
    }
    expect(offsite).toEqual([]);
    expect(await w.context.cookies()).not.toContainEqual(expect.objectContaining({ name: "x" }));
    await w.closeClean();
  });

  it("CSRF: the form token of one session is refused in another (403) and nothing happens", async () => {
    const alice = await gh.h.account("user", uname("csrfa"));
    const bob = await gh.h.account("user", uname("csrfb"));
    const wa = await watchedContext(browser);
    const wb = await watchedContext(browser);
    wb.allow(/status of 403/);
    const pa = await wa.page();
    const pb = await wb.page();
    await signIn(pa, gh, alice.name);
    await signIn(pb, gh, bob.name);
    const aliceToken = await csrfTokenOn(pa);
    expect(await csrfTokenOn(pb)).not.toBe(aliceToken);

    // Bob's page, with Alice's token planted in its forms: signing out is refused.
    await plantCsrfToken(pb, aliceToken);
    const [response] = await Promise.all([pb.waitForNavigation(), signOutButton(pb).click()]);
    expect(response?.status()).toBe(403);
    await pb.goto(gh.url("/account"));
    expect(pathOf(pb)).toBe("/account");
    expect(await pb.getByText(bob.name).first().isVisible()).toBe(true);

    // A pre-session (signed-out) token is refused in a signed-in session too.
    const wc = await watchedContext(browser);
    const pc = await wc.page();
    await pc.goto(gh.url("/login"));
    const preSession = await csrfTokenOn(pc);
    await plantCsrfToken(pb, preSession);
    const [again] = await Promise.all([pb.waitForNavigation(), signOutButton(pb).click()]);
    expect(again?.status()).toBe(403);
    // Alice's own token still works for Alice.
    await signOut(pa);
    await wa.closeClean();
    await wb.closeClean();
    await wc.closeClean();
  });

  it("login CSRF: a sign-in form token from another browser's pre-session is refused (403), so an attacker cannot sign a victim into the attacker's account", async () => {
    const { name } = await gh.h.account("user", uname("logincsrf"));
    const attacker = await watchedContext(browser);
    const victim = await watchedContext(browser);
    victim.allow(/status of 403/);
    const pa = await attacker.page();
    await pa.goto(gh.url("/login"));
    const attackerToken = await csrfTokenOn(pa);
    const pv = await victim.page();
    await pv.goto(gh.url("/login"));
    await plantCsrfToken(pv, attackerToken);
    await pv.getByLabel("Username or email").fill(name);
    await pv.getByLabel("Password", { exact: true }).fill(GOOD_PASSWORD);
    const [res] = await Promise.all([pv.waitForNavigation(), pv.getByRole("button", { name: "Sign in", exact: true }).click()]);
    expect(res?.status()).toBe(403);
    expect((await victim.context.cookies()).some((c) => c.name.endsWith("gatehouse_session"))).toBe(false);
    await attacker.closeClean();
    await victim.closeClean();
  });

  it("keyboard: the sign-in form is usable with the keyboard alone, and the focused control shows a visible focus ring", async () => {
    const { name } = await gh.h.account("user", uname("keys"));
    const w = await watchedContext(browser);
    const page = await w.page();
    await page.goto(gh.url("/login"));
    // The username field has focus on arrival (autofocus); its focus ring is drawn.
    const focused = page.locator(":focus");
    expect(await focused.getAttribute("name")).toBe("username");
    await page.keyboard.type(name);
    await page.keyboard.press("Tab");
    expect(await focused.getAttribute("name")).toBe("password");
    expect(await focused.evaluate("(el) => getComputedStyle(el).outlineStyle")).not.toBe("none");
    await page.keyboard.type(GOOD_PASSWORD);
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    expect(pathOf(page)).toBe("/account");
    await w.closeClean();
  });

  it("remember me: only a ticked box makes the session cookie outlive the browser (a persistent, HttpOnly, SameSite=Lax cookie)", async () => {
    const { name } = await gh.h.account("user", uname("remember"));
    const sessionCookie = async (w: Awaited<ReturnType<typeof watchedContext>>) =>
      (await w.context.cookies()).find((c) => c.name.endsWith("gatehouse_session"));
    const plain = await watchedContext(browser);
    await signIn(await plain.page(), gh, name);
    const transient = await sessionCookie(plain);
    expect(transient?.expires).toBe(-1);
    expect(transient?.httpOnly).toBe(true);
    expect(transient?.sameSite).toBe("Lax");
    const kept = await watchedContext(browser);
    await signIn(await kept.page(), gh, name, { remember: true });
    const persistent = await sessionCookie(kept);
    expect(persistent?.expires).toBeGreaterThan(Date.now() / 1000 + 7 * 86_400);
    expect(persistent?.httpOnly).toBe(true);
    await plain.closeClean();
    await kept.closeClean();
  });

  it("first start: the one-time /setup link creates the superadmin; the token stays in the fragment (never sent) and leaves the address bar; the link then stops working", async () => {
    const first = await gh.h.gh.firstSuperadmin.ensure(null);
    expect(first.status).toBe("setup");
    const token = (first as { token: string }).token;
    const w = await watchedContext(browser);
    w.allow(/status of 404/);
    const page = await w.page();
    const sent: string[] = [];
    page.on("request", (r) => void sent.push(`${r.url()} ${r.headers().referer ?? ""}`));
    const res = await page.goto(gh.url(`/setup#token=${token}`));
    expect(res?.headers()["referrer-policy"]).toBe("no-referrer");
    expect(page.url()).toBe(gh.url("/setup"));
    expect(await page.getByLabel("Setup token").inputValue()).toBe(token);
    await page.getByLabel("Username", { exact: true }).fill("morgan.root");
    await page.getByLabel("Password", { exact: true }).fill(GOOD_PASSWORD);
    await saveScreenshot(page, "setup");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: /Create/ }).click()]);
    expect(pathOf(page)).toBe("/account");
    expect(await page.getByRole("status").first().textContent()).toContain("superadmin account is ready");
    expect(sent.filter((line) => line.includes(token))).toEqual([]);
    const again = await page.goto(gh.url(`/setup#token=${token}`));
    expect(again?.status()).toBe(404);
    await w.closeClean();
  });

  it("API token: created with a scope and expiry, its secret shown once with a copy button, usable as Bearer, then revoked", async () => {
    const { name } = await gh.h.account("user", uname("tokens"));
    const w = await watchedContext(browser);
    const page = await w.page();
    await signIn(page, gh, name);
    await page.getByLabel("Name", { exact: true }).fill("backup script");
    await page.getByLabel("Expires after (days)").fill("30");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create token" }).click()]);
    const secret = (await page.locator("#new-token").textContent())?.trim() ?? "";
    expect(secret.length).toBeGreaterThan(20);
    expect(await page.getByRole("button", { name: "Copy" }).isVisible()).toBe(true);
    expect(page.url()).not.toContain(secret);
    const me = await gh.h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${secret}` } });
    expect(me.statusCode).toBe(200);
    // Shown once: the next visit lists the token by name and prefix only.
    await page.goto(gh.url("/account"));
    expect(await page.content()).not.toContain(secret);
    const row = page.locator("section[aria-labelledby=tokens-h] tbody tr").filter({ hasText: "backup script" });
    await Promise.all([page.waitForNavigation(), row.getByRole("button", { name: "Revoke" }).click()]);
    expect(w.confirms.at(-1)).toMatch(/Revoke this token/);
    expect(await page.getByRole("status").first().textContent()).toContain("The API token was revoked");
    const after = await gh.h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${secret}` } });
    expect(after.statusCode).toBe(401);
    await w.closeClean();
  });

  it("password change on the account page: a wrong current password is shown at the field; the right one signs the other browsers out", async () => {
    const { name } = await gh.h.account("user", uname("chpw"));
    const here = await watchedContext(browser);
    const there = await watchedContext(browser);
    here.allow(/status of 403/);
    const page = await here.page();
    const other = await there.page();
    await signIn(page, gh, name);
    await signIn(other, gh, name);
    const NEW = "copper-meadow-signal-58";
    await page.getByLabel("Current password").fill("not-the-password-2");
    await page.getByLabel("New password").fill(NEW);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Change password" }).click()]);
    expect(await page.getByLabel("Current password").getAttribute("aria-invalid")).toBe("true");
    await page.getByLabel("Current password").fill(GOOD_PASSWORD);
    await page.getByLabel("New password").fill(NEW);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Change password" }).click()]);
    expect(await page.getByRole("status").first().textContent()).toContain("Your password was changed");
    await other.goto(gh.url("/account"));
    expect(pathOf(other)).toBe("/login");
    await page.goto(gh.url("/account"));
    expect(pathOf(page)).toBe("/account");
    await signOut(page);
    await signIn(page, gh, name, { password: NEW });
    expect(pathOf(page)).toBe("/account");
    await here.closeClean();
    await there.closeClean();
  });

  it("registration explains the password policy up front and shows a violation at the field; a script payload as username is shown back literally", async () => {
    const w = await watchedContext(browser);
    w.allow(/status of 400/);
    const page = await w.page();
    await page.goto(gh.url("/register"));
    const hint = page.locator("[id$='-hint']");
    expect((await hint.allTextContents()).join(" ")).toMatch(/\d+ characters/);
    const payload = "<img src=x onerror=alert(1)>";
    await fillRegister(page, { username: payload, password: "short" });
    expect(pathOf(page)).toBe("/register");
    expect(await page.getByLabel("Username", { exact: true }).inputValue()).toBe(payload);
    expect(await page.getByLabel("Username", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("img[onerror], [onerror], [onload]").count()).toBe(0);
    await w.closeClean();
  });

  it("the sign-in page works on a phone-sized screen (no horizontal scrolling)", async () => {
    const w = await watchedContext(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await w.page();
    await page.goto(gh.url("/login"));
    const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await saveScreenshot(page, "login-phone");
    await w.closeClean();
  });

  it("registration: a new account can sign in by email with the password it chose", async () => {
    const name = uname("bymail");
    const w = await watchedContext(browser);
    const page = await w.page();
    await page.goto(gh.url("/register"));
    await fillRegister(page, { username: name, email: `${name}@example.test`, password: GOOD_PASSWORD });
    await signOut(page);
    await signIn(page, gh, `${name}@EXAMPLE.test`);
    expect(pathOf(page)).toBe("/account");
    await w.closeClean();
  });
});
