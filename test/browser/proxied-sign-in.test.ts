import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { proxyRequest } from "../helpers/proxies/client.js";
import { APP_HOST, PORTAL_HOST } from "../helpers/proxies/gatehouse-listener.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { fillSignIn, signOutButton } from "../helpers/browser/portal.js";
import { APP2_HOST, HOST_RESOLVER_ARGS, startProxiedStack, type ProxiedStack, type StackMode } from "../helpers/browser/proxied-stack.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";

// Real Chromium → real nginx / Caddy with TLS (random port) → Gatehouse → the echo app,
// in both deployments: forward-auth (docs/proxies) and Gatehouse as the reverse proxy behind a TLS terminator.

let browser: Promise<Browser> | null = null;
/** One Chromium for the whole file, with the test hosts mapped to 127.0.0.1. */
const sharedBrowser = () => (browser ??= launchChromium(HOST_RESOLVER_ARGS));
afterAll(async () => {
  if (browser) await (await browser).close();
});

/** The page the anonymous visit starts on: a deep link with a query. */
const DEEP = "/some/page?x=1&y=2";

/** Requests the app received (after the first `from`) for `host` (as the browser named it: X-Forwarded-Host, else Host) and `url`, and the Remote-User each carried. */
function seenAt(stack: ProxiedStack, host: string, url: string, from = 0): string[] {
  return stack.upstream.seen
    .slice(from)
    .filter((r) => String(r.headers["x-forwarded-host"] ?? r.headers.host).replace(/:\d+$/, "") === host && r.url === url)
    .map((r) => String(r.headers["remote-user"] ?? ""));
}

/** Where the sign-in page is in this mode: the portal, or the app host under Gatehouse's prefix. */
function loginPageOf(stack: ProxiedStack): string {
  return stack.mode === "forward-auth" ? stack.url(PORTAL_HOST, "/login") : stack.url(APP_HOST, "/.gatehouse/login");
}

/** Where the account page (and its "Sign out" button) is in this mode. */
function accountPageOf(stack: ProxiedStack): string {
  return stack.mode === "forward-auth" ? stack.url(PORTAL_HOST, "/account") : stack.url(APP_HOST, "/.gatehouse/account");
}

function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

async function expectOnSignInPage(page: Page, stack: ProxiedStack, returnTo: string): Promise<void> {
  expect(withoutQuery(page.url())).toBe(loginPageOf(stack));
  expect(new URL(page.url()).searchParams.get("return")).toBe(returnTo);
  await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
}

function describeStack(kind: "nginx" | "caddy", mode: StackMode): void {
  describe.runIf(proxySuiteRuns(kind))(`through real ${kind} with TLS, ${mode} mode`, () => {
    let stack: ProxiedStack;
    let chromium: Browser;
    beforeAll(async () => {
      [chromium, stack] = await Promise.all([sharedBrowser(), startProxiedStack(kind, mode)]);
    });
    afterAll(async () => {
      await stack?.close();
    });

    it.each([
      ["on", true],
      ["off", false],
    ])(
      "JavaScript %s: deep link → sign-in page → back on the exact URL with the identity; app2 without a second sign-in; HTML 403 on /admin; sign-out ends both",
      async (_label, javaScriptEnabled) => {
        const user = await stack.user();
        const mark = stack.upstream.seen.length;
        const seen = (host: string, url: string) => seenAt(stack, host, url, mark);
        const w: WatchedContext = await watchedContext(chromium, { javaScriptEnabled, ignoreHTTPSErrors: true });
        w.allow(/status of 403/);
        const page = await w.page();
        const deep = stack.url(APP_HOST, DEEP);

        // Anonymous: the sign-in page, with the deep link (query included) as its return target.
        await page.goto(deep);
        await expectOnSignInPage(page, stack, deep);
        expect(seen(APP_HOST, DEEP)).toEqual([]);

        // Sign in: the browser follows the 303 back to the app (form-action allows the protected origin).
        await fillSignIn(page, user.name);
        expect(page.url()).toBe(deep);
        expect(seen(APP_HOST, DEEP)).toEqual([user.name]);
        const echoed = JSON.parse((await page.locator("body").innerText()).trim()) as { url: string; headers: Record<string, string> };
        expect(echoed.url).toBe(DEEP);
        expect(echoed.headers["remote-user"]).toBe(user.name);
        expect(echoed.headers["remote-email"]).toBe(`${user.name}@example.test`);
        expect(echoed.headers["remote-groups"]).not.toMatch(/admin/);
        // Gatehouse as the reverse proxy keeps its cookies from the app (with forward-auth the proxy passes every cookie on).
        if (mode === "reverse-proxy") expect(JSON.stringify(echoed.headers)).not.toMatch(/gatehouse_session/);

        // Another app on another subdomain: no second sign-in (COOKIE_DOMAIN single sign-on).
        const other = stack.url(APP2_HOST, "/other?z=3");
        await page.goto(other);
        expect(page.url()).toBe(other);
        expect(seen(APP2_HOST, "/other?z=3")).toEqual([user.name]);

        // Admins only: a person gets an HTML 403 page, and the app never sees the request.
        const refused = await page.goto(stack.url(APP_HOST, "/admin/settings"));
        expect(refused?.status()).toBe(403);
        expect(refused?.headers()["content-type"]).toMatch(/^text\/html/);
        await expect.poll(() => page.getByRole("heading", { name: "Not allowed" }).isVisible()).toBe(true);
        expect(seen(APP_HOST, "/admin/settings")).toEqual([]);

        // Sign out (the account page's POST form): both apps ask for a sign-in again.
        await page.goto(accountPageOf(stack));
        await Promise.all([page.waitForNavigation(), signOutButton(page).click()]);
        expect(withoutQuery(page.url())).toBe(loginPageOf(stack));
        for (const [host, path] of [[APP_HOST, "/after"], [APP2_HOST, "/after"]] as const) {
          await page.goto(stack.url(host, path));
          expect(withoutQuery(page.url()), host).toBe(mode === "forward-auth" ? loginPageOf(stack) : stack.url(host, "/.gatehouse/login"));
          expect(seen(host, path)).toEqual([]);
        }
        await w.closeClean();
      },
    );

    it("an API client refused on /admin gets JSON, a browser gets HTML; nothing reaches the app", async () => {
      const user = await stack.user();
      const host = `${APP_HOST}:${stack.port}`;
      const api = await proxyRequest(stack.port, { host, path: "/admin/api", cookie: user.cookie, headers: [["Accept", "application/json"]] });
      const html = await proxyRequest(stack.port, { host, path: "/admin/api", cookie: user.cookie, headers: [["Accept", "text/html,application/xhtml+xml"]] });
      expect(api.status).toBe(403);
      expect(html.status).toBe(403);
      expect(html.headers["content-type"]).toMatch(/^text\/html/);
      // nginx relays Gatehouse's answer through `error_page 403` (docs/proxies/nginx), Caddy as it is.
      expect(api.headers["content-type"]).toMatch(/^application\/json/);
      expect(JSON.parse(api.body)).toEqual({ error: "You are not allowed to do this", code: "forbidden" });
      expect(html.body).toMatch(/Not allowed/);
      expect(stack.upstream.saw(api.probe)).toHaveLength(0);
      expect(stack.upstream.saw(html.probe)).toHaveLength(0);
    });
  });
}

describeBrowser("browser: sign-in through real proxies returns to the app (forward-auth and reverse-proxy mode)", () => {
  for (const kind of ["nginx", "caddy"] as const) {
    describeStack(kind, "forward-auth");
    describeStack(kind, "reverse-proxy");
  }
});
