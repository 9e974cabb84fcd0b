import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCodeAt } from "../../src/core/mfa/totp/totp-code.js";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { APP_HOST, PORTAL_HOST } from "../helpers/proxies/gatehouse-listener.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { fillSignIn } from "../helpers/browser/portal.js";
import { APP2_HOST, HOST_RESOLVER_ARGS, startProxiedStack, type ProxiedStack, type StackMode } from "../helpers/browser/proxied-stack.js";
import { saveScreenshot, unionOf } from "../helpers/browser/screenshots.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";

// Real Chromium → real nginx / Caddy with TLS (random port, throw-away certificate) → Gatehouse → the echo app,
// with a `two_factor` rule on the app's /secure pages: the second factors themselves (TOTP, passkeys), no doubles.

/** `/secure` on the app needs two factors; the rest of both apps one. */
const TWO_FACTOR_RULES_YAML = `access_control:
  default_policy: deny
  rules:
    - domain: ["${APP_HOST}"]
      resources: ["^/secure"]
      policy: two_factor
    - domain: ["${APP_HOST}", "${APP2_HOST}"]
      policy: one_factor
`;

/** The two_factor page the anonymous visit starts on: a deep link with a query. */
const DEEP = "/secure/page?x=1";
/** A one_factor page of the same app. */
const PLAIN = "/plain/page?y=2";

let browser: Promise<Browser> | null = null;
/** One Chromium for the whole file, with the test hosts mapped to 127.0.0.1. */
const sharedBrowser = () => (browser ??= launchChromium(HOST_RESOLVER_ARGS));
afterAll(async () => {
  if (browser) await (await browser).close();
});

/** The Remote-User of each request the app received (after `from`) for `url` on APP_HOST. */
function seenAt(stack: ProxiedStack, url: string, from: number): string[] {
  return stack.upstream.seen
    .slice(from)
    .filter((r) => String(r.headers["x-forwarded-host"] ?? r.headers.host).replace(/:\d+$/, "") === APP_HOST && r.url === url)
    .map((r) => String(r.headers["remote-user"] ?? ""));
}

/** Where Gatehouse's own pages are for a visit to the app: the portal (forward-auth), or the app host under Gatehouse's prefix. */
function gatehousePage(stack: ProxiedStack, path: string): string {
  return stack.mode === "forward-auth" ? stack.url(PORTAL_HOST, path) : stack.url(APP_HOST, `/.gatehouse${path}`);
}

function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

async function expectOnSignInPage(page: Page, stack: ProxiedStack, returnTo: string): Promise<void> {
  expect(withoutQuery(page.url())).toBe(gatehousePage(stack, "/login"));
  expect(new URL(page.url()).searchParams.get("return")).toBe(returnTo);
  await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
}

/** The echo app's answer on screen: the Remote-User it received. */
async function echoedUser(page: Page): Promise<string | undefined> {
  const echoed = JSON.parse((await page.locator("body").innerText()).trim()) as { headers: Record<string, string> };
  return echoed.headers["remote-user"];
}

/**
 * Chromium's virtual authenticator (DevTools `WebAuthn` domain) on `page`: a
 * platform authenticator with resident keys and user verification (a phone,
 * a laptop's screen lock), optionally holding `credentials` already.
 */
async function virtualAuthenticator(page: Page, credentials: unknown[] = []): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  for (const credential of credentials) await cdp.send("WebAuthn.addCredential", { authenticatorId, credential } as never);
  return { cdp, id: authenticatorId };
}

/** The (TLS) contexts of this file: the proxy's certificate is a throw-away self-signed one. */
const tls = { ignoreHTTPSErrors: true } as const;

function describeStack(kind: "nginx" | "caddy", mode: StackMode): void {
  /** The docs screenshots are taken once, on the forward-auth nginx stack. */
  const shots = kind === "nginx" && mode === "forward-auth";

  describe.runIf(proxySuiteRuns(kind))(`through real ${kind} with TLS, ${mode} mode`, () => {
    let stack: ProxiedStack;
    let chromium: Browser;
    beforeAll(async () => {
      [chromium, stack] = await Promise.all([sharedBrowser(), startProxiedStack(kind, mode, TWO_FACTOR_RULES_YAML)]);
    });
    afterAll(async () => {
      await stack?.close();
    });

    /** Registers a passkey on the portal's /account page (its origin is PUBLIC_URL's, as WebAuthn requires). */
    async function addPasskey(page: Page, name: string): Promise<void> {
      await page.goto(stack.url(PORTAL_HOST, "/account"));
      const form = page.locator("form[data-passkey-add]");
      await expect.poll(() => form.isVisible()).toBe(true);
      await form.getByLabel("Passkey name").fill(name);
      await Promise.all([page.waitForEvent("load"), form.getByRole("button", { name: "Add a passkey" }).click()]);
      await expect.poll(() => page.locator("#passkeys table").textContent()).toContain(name);
    }

    it("password + authenticator app: deep link → sign-in → enrol (no factor yet) → step up with a code → a new sign-in asks for the code → a wrong code is refused → the right one lands on the exact URL with the identity; a one_factor page too", async () => {
      const user = await stack.user();
      const mark = stack.upstream.seen.length;
      const deep = stack.url(APP_HOST, DEEP);
      const clock = stack.gh.h.clock;

      // 1. The password alone, no second factor yet: the rule sends the browser to enrol one; the app sees nothing.
      const first: WatchedContext = await watchedContext(chromium, tls);
      const page = await first.page();
      await page.goto(deep);
      await expectOnSignInPage(page, stack, deep);
      await fillSignIn(page, user.name);
      expect(withoutQuery(page.url())).toBe(gatehousePage(stack, "/account/mfa"));
      await expect.poll(() => page.getByRole("heading", { name: "Two-factor authentication" }).isVisible()).toBe(true);
      expect(seenAt(stack, DEEP, mark)).toEqual([]);

      // Set up the authenticator app on the page: QR code, key, first code (the current step).
      await Promise.all([page.waitForNavigation(), page.getByRole("link", { name: "Authenticator app (one-time codes)" }).click()]);
      await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Begin setup" }).click()]);
      await expect.poll(() => page.locator(".qr svg").isVisible()).toBe(true);
      if (shots) await saveScreenshot(page, "totp-setup");
      const secret = (await page.locator("#totp-secret").innerText()).replace(/\s+/g, "");
      await page.getByLabel("Code from the app").fill(await totpCodeAt(secret, clock.now()));
      await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Turn on" }).click()]);
      expect(withoutQuery(page.url())).toBe(gatehousePage(stack, "/account"));
      expect(await stack.gh.h.gh.totp.isEnrolled(user.id)).toBe(true);

      // This session was opened with the password alone (aal1): the deep link now asks it to step up with a code.
      first.allow(/status of 401/);
      await page.goto(deep);
      expect(withoutQuery(page.url())).toBe(gatehousePage(stack, "/login/second-factor"));
      expect(new URL(page.url()).searchParams.get("return")).toBe(deep);
      expect(seenAt(stack, DEEP, mark)).toEqual([]);
      await page.getByLabel("Code", { exact: true }).fill(await totpCodeAt(secret, clock.now() + 30_000));
      await Promise.all([page.waitForURL(deep), page.getByRole("button", { name: "Continue" }).first().click()]);
      expect(seenAt(stack, DEEP, mark)).toEqual([user.name]);
      await first.closeClean();
      // A minute later (the steps used so far are spent: each is accepted once).
      clock.advance(60_000);

      // 2. A new browser: the deep link → password → the code form (no session yet, the app sees nothing new).
      const w = await watchedContext(chromium, tls);
      w.allow(/status of 401/);
      const p = await w.page();
      await p.goto(deep);
      await expectOnSignInPage(p, stack, deep);
      await fillSignIn(p, user.name);
      await expect.poll(() => p.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
      expect(seenAt(stack, DEEP, mark)).toEqual([user.name]);

      // A wrong code (none of the three steps the window accepts): an error on the page, still nothing for the app.
      const window = await Promise.all([-30_000, 0, 30_000].map((d) => totpCodeAt(secret, clock.now() + d)));
      let wrong = "123456";
      while (window.includes(wrong)) wrong = String((Number(wrong) + 1) % 1_000_000).padStart(6, "0");
      await p.getByLabel("Code", { exact: true }).fill(wrong);
      await Promise.all([p.waitForNavigation(), p.getByRole("button", { name: "Continue" }).first().click()]);
      await expect.poll(() => p.getByText("The code is incorrect.").isVisible()).toBe(true);
      expect(seenAt(stack, DEEP, mark)).toEqual([user.name]);

      // The right code: the next step (the setup used the current one; a step is accepted once).
      await p.getByLabel("Code", { exact: true }).fill(await totpCodeAt(secret, clock.now() + 30_000));
      await Promise.all([p.waitForURL(deep), p.getByRole("button", { name: "Continue" }).first().click()]);
      expect(p.url()).toBe(deep);
      expect(seenAt(stack, DEEP, mark)).toEqual([user.name, user.name]);
      expect(await echoedUser(p)).toBe(user.name);

      // A one_factor page of the same app, with the same session.
      const plain = stack.url(APP_HOST, PLAIN);
      await p.goto(plain);
      expect(p.url()).toBe(plain);
      expect(seenAt(stack, PLAIN, mark)).toEqual([user.name]);
      const signIns = await stack.gh.h.gh.stores.audit.list({ userId: user.id, type: "login_success", limit: 5 });
      expect(signIns.map((e) => `${e.details.amr} ${e.details.aal}`).sort()).toEqual(["pwd aal1", "pwd otp aal2"]);
      const [stepUp] = await stack.gh.h.gh.stores.audit.list({ userId: user.id, type: "mfa_step_up", limit: 5 });
      expect(stepUp?.details).toMatchObject({ method: "totp", aal: "aal2" });
      await w.closeClean();
    });

    it("passkey alone: registered on the portal's /account, then in a fresh browser holding it, the deep link → \"Sign in with a passkey\" (no password) → the exact URL with the identity", async () => {
      const user = await stack.user();
      const mark = stack.upstream.seen.length;
      const deep = stack.url(APP_HOST, DEEP);

      // Register: sign in with the password on the portal, add a passkey with the virtual authenticator.
      const first = await watchedContext(chromium, tls);
      const page = await first.page();
      const authenticator = await virtualAuthenticator(page);
      await page.goto(stack.url(PORTAL_HOST, "/login"));
      await fillSignIn(page, user.name);
      await addPasskey(page, "Laptop");
      const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
      expect(credentials).toHaveLength(1);
      await first.closeClean();

      // A fresh browser whose authenticator holds the same credential (the user's phone or laptop).
      const w = await watchedContext(chromium, tls);
      const p = await w.page();
      await virtualAuthenticator(p, credentials);
      await p.goto(deep);
      await expectOnSignInPage(p, stack, deep);
      expect(seenAt(stack, DEEP, mark)).toEqual([]);
      // Reverse-proxy mode: a ceremony answers to PUBLIC_URL's origin only, so the app host's sign-in page links to
      // the portal's, which signs in with the passkey and returns to the app host (COOKIE_DOMAIN single sign-on).
      if (mode === "reverse-proxy") {
        await Promise.all([p.waitForURL(/\/\/auth\.example\.com/), p.getByRole("link", { name: "Sign in with a passkey" }).click()]);
        expect(p.url()).toBe(stack.url(PORTAL_HOST, `/login?return=${encodeURIComponent(deep)}`));
      }
      await Promise.all([p.waitForURL(deep), p.getByRole("button", { name: "Sign in with a passkey" }).click()]);
      expect(p.url()).toBe(deep);
      expect(seenAt(stack, DEEP, mark)).toEqual([user.name]);
      expect(await echoedUser(p)).toBe(user.name);
      // Two sign-ins: the password (to register) and the passkey alone, which is aal2 (user verified).
      const signIns = await stack.gh.h.gh.stores.audit.list({ userId: user.id, type: "login_success", limit: 5 });
      expect(signIns.map((e) => `${e.details.method} ${e.details.amr} ${e.details.aal}`).sort()).toEqual(["hardware_key hwk mfa aal2", "password pwd aal1"]);
      await w.closeClean();
    });

    // Gatehouse's own pages on the app host: a passkey ceremony answers to PUBLIC_URL's origin only, so there the
    // passkey buttons are links to the portal, and no assertion is ever sent from the app's origin.
    if (mode === "reverse-proxy")
      it("on the app host's own pages, \"Use a passkey\" after the password leads to the portal, whose passkey sign-in returns to the deep link; no ceremony runs on the app's origin", async () => {
        const user = await stack.user();
        const mark = stack.upstream.seen.length;
        const first = await watchedContext(chromium, tls);
        const page = await first.page();
        const authenticator = await virtualAuthenticator(page);
        await page.goto(stack.url(PORTAL_HOST, "/login"));
        await fillSignIn(page, user.name);
        await addPasskey(page, "Laptop");
        const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", { authenticatorId: authenticator.id });
        await first.closeClean();

        const w = await watchedContext(chromium, tls);
        const p = await w.page();
        await virtualAuthenticator(p, credentials);
        const sentFromApp: string[] = [];
        p.on("request", (r) => {
          if (r.url().includes("/.gatehouse/api/auth/webauthn/") || r.url().includes("/.gatehouse/api/auth/mfa/")) sentFromApp.push(r.url());
        });
        const deep = stack.url(APP_HOST, DEEP);
        await p.goto(deep);
        await expectOnSignInPage(p, stack, deep);
        // The password on the app host: its second-factor page offers the passkey as a link to the portal.
        await fillSignIn(p, user.name);
        await expect.poll(() => p.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
        await Promise.all([p.waitForURL(/\/\/auth\.example\.com/), p.getByRole("link", { name: "Use a passkey" }).click()]);
        expect(p.url()).toBe(stack.url(PORTAL_HOST, `/login?return=${encodeURIComponent(deep)}`));
        await Promise.all([p.waitForURL(deep), p.getByRole("button", { name: "Sign in with a passkey" }).click()]);
        expect(seenAt(stack, DEEP, mark)).toEqual([user.name]);
        expect(await echoedUser(p)).toBe(user.name);
        expect(sentFromApp).toEqual([]);
        expect(await stack.gh.h.gh.stores.audit.list({ userId: user.id, type: "login_failure", limit: 5 })).toEqual([]);
        await w.closeClean();
      });

    // Once, on one stack: the pictures of docs/screenshots/.
    if (shots)
      it("screenshots: the account page's second-factor sections, the second-factor prompt (desktop and phone), the admin user page's second factors", async () => {
      const user = await stack.user();
      const gh = stack.gh.h.gh;
      // A passkey (registered in the browser), an authenticator app and recovery codes (through the services).
      const first = await watchedContext(chromium, tls);
      const page = await first.page();
      await virtualAuthenticator(page);
      await page.goto(stack.url(PORTAL_HOST, "/login"));
      await fillSignIn(page, user.name);
      await addPasskey(page, "Work laptop");
      const { secret } = await gh.totp.enrol({ id: user.id, username: user.name });
      await gh.totp.confirm({ id: user.id, email: `${user.name}@example.test` }, await totpCodeAt(secret, stack.gh.h.clock.now()), { ip: "127.0.0.1", userAgent: "test" });
      await gh.recoveryCodes.issue(user.id);
      await page.goto(stack.url(PORTAL_HOST, "/account"));
      const sections = ["#mfa-h", "#recovery-h", "#passkeys-h"].map((h) => page.locator(`section:has(${h})`));
      for (const s of sections) await expect.poll(() => s.isVisible()).toBe(true);
      // Only those three in the picture: the page's other cards (sessions, tokens, …) are hidden for it.
      await page.evaluate(`document.querySelectorAll("section.card").forEach((s) => { if (!s.querySelector("#mfa-h, #recovery-h, #passkeys-h")) s.hidden = true; })`);
      await saveScreenshot(page, "account-second-factors", { clip: await unionOf(sections) });
      await first.closeClean();

      // The prompt after the password: the code, "Use a passkey", "Use a recovery code".
      for (const [name, options] of [
        ["second-factor", {}],
        ["second-factor-phone", { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true }],
      ] as const) {
        const w = await watchedContext(chromium, { ...tls, ...options });
        const p = await w.page();
        await p.goto(stack.url(PORTAL_HOST, `/login?return=${encodeURIComponent(stack.url(APP_HOST, DEEP))}`));
        await fillSignIn(p, user.name);
        await expect.poll(() => p.getByRole("button", { name: "Use a passkey" }).isVisible()).toBe(true);
        await expect.poll(() => p.getByText("Use a recovery code").isVisible()).toBe(true);
        await saveScreenshot(p, name);
        await w.closeClean();
      }

      // The admin user page's "Second factors" card (the harness runs MFA_REQUIRED=off: the admin signs in with a password).
      const admin = await stack.gh.h.account("admin");
      const a = await watchedContext(chromium, tls);
      const ap = await a.page();
      await ap.goto(stack.url(PORTAL_HOST, `/login?return=${encodeURIComponent(`/admin/users/${user.id}`)}`));
      await fillSignIn(ap, admin.name);
      expect(withoutQuery(ap.url())).toBe(stack.url(PORTAL_HOST, `/admin/users/${user.id}`));
      const card = ap.locator("section:has(#mfa-h)");
      await expect.poll(() => card.textContent()).toMatch(/Passkeys\s*Authenticator app \(TOTP\)\s*Recovery codes/);
      await saveScreenshot(ap, "admin-user-second-factors", { fullPage: false });
      await a.closeClean();
    });
  });
}

describeBrowser("browser: a two_factor rule through real proxies with TLS — password + TOTP, and a passkey alone", () => {
  describeStack("nginx", "forward-auth");
  describeStack("nginx", "reverse-proxy");
  describeStack("caddy", "forward-auth");
  describeStack("caddy", "reverse-proxy");
});
