import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCodeAt } from "../../src/core/mfa/totp/totp-code.js";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { APP_HOST, PORTAL_HOST } from "../helpers/proxies/gatehouse-listener.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { APP2_HOST, BROWSER_RULES_YAML, HOST_RESOLVER_ARGS, startProxiedStack, type ProxiedStack, type StackMode } from "../helpers/browser/proxied-stack.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";
import { startTestIdp, type TestIdp } from "../helpers/oauth/test-idp.js";

// Real Chromium → real nginx / Caddy with TLS (random port) → Gatehouse → the echo app, with the real local
// OpenID Connect provider (oidc-provider over HTTPS, self-signed) configured through the OAUTH_* variables:
// the browser goes to the IdP's own login form and comes back through the proxy.

/** The provider of the OAUTH_* variables: its id is its type. */
const PROVIDER = "oidc";
const PROVIDER_NAME = "Test IdP";
const CLIENT = { client_id: "gatehouse", client_secret: "test-client-secret-0123456789" };
/** The deep link the anonymous visit starts on. */
const DEEP = "/some/page?x=1";
const IDP_PASSWORD = "idp-password-0123";

let browser: Promise<Browser> | null = null;
/** One Chromium for the whole file, with the test hosts mapped to 127.0.0.1. */
const sharedBrowser = () => (browser ??= launchChromium(HOST_RESOLVER_ARGS));
afterAll(async () => {
  if (browser) await (await browser).close();
});

/**
 * What Gatehouse's outbound calls received from the IdP's token endpoint (the
 * access and ID tokens the browser must never see), read from undici's
 * diagnostics channel: Gatehouse runs in this process.
 */
const tokenBodies = new Map<object, Buffer[]>();
const onChunk = (message: unknown): void => {
  const { request, chunk } = message as { request: { origin?: unknown; path?: unknown }; chunk: Buffer };
  if (typeof request.path !== "string" || !request.path.startsWith("/token") || !String(request.origin).startsWith("https://127.0.0.1:")) return;
  const chunks = tokenBodies.get(request) ?? [];
  chunks.push(Buffer.from(chunk));
  tokenBodies.set(request, chunks);
};
subscribe("undici:request:bodyChunkReceived", onChunk);
afterAll(() => unsubscribe("undici:request:bodyChunkReceived", onChunk));

/** Every token the IdP's token endpoint issued so far (access and ID tokens). */
function issuedTokens(): string[] {
  const out: string[] = [];
  for (const chunks of tokenBodies.values()) {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    for (const key of ["access_token", "id_token", "refresh_token"]) if (typeof body[key] === "string") out.push(body[key]);
  }
  return out;
}

/** The Remote-User of each request the app received (after `from`) for `url` on `host`. */
function seenAt(stack: ProxiedStack, host: string, url: string, from: number): string[] {
  return stack.upstream.seen
    .slice(from)
    .filter((r) => String(r.headers["x-forwarded-host"] ?? r.headers.host).replace(/:\d+$/, "") === host && r.url === url)
    .map((r) => String(r.headers["remote-user"] ?? ""));
}

function withoutQuery(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** The echo app's answer on screen: the Remote-User it received. */
async function echoedUser(page: Page): Promise<string | undefined> {
  const echoed = JSON.parse((await page.locator("body").innerText()).trim()) as { headers: Record<string, string> };
  return echoed.headers["remote-user"];
}

let seq = 0;
/** A fresh IdP user (verified email unless `email` is given) whose login is also its preferred_username. */
function idpUser(idp: TestIdp, email?: string): { login: string; sub: string } {
  const login = `ada${++seq}x${process.pid % 1000}`;
  idp.addUser({ sub: `sub-${login}`, login, password: IDP_PASSWORD, email: email ?? `${login}@idp.example.test`, email_verified: true, name: `Ada ${seq}`, preferred_username: login });
  return { login, sub: `sub-${login}` };
}

/** The TLS contexts of this file: the proxy's and the IdP's certificates are throw-away self-signed ones. */
const tls = { ignoreHTTPSErrors: true } as const;

/** Whether the sign-in page's provider button was there (false: the fallback to the start URL was taken). */
const buttonSeen: boolean[] = [];

function describeStack(kind: "nginx" | "caddy", mode: StackMode): void {
  describe.runIf(proxySuiteRuns(kind))(`through real ${kind} with TLS, ${mode} mode`, () => {
    let stack: ProxiedStack;
    let idp: TestIdp;
    let chromium: Browser;
    beforeAll(async () => {
      // The IdP first: Gatehouse reads its issuer at start; the redirect URI needs the proxy's random port.
      const started = await Promise.all([sharedBrowser(), startTestIdp()]);
      chromium = started[0];
      idp = started[1];
      stack = await startProxiedStack(kind, mode, BROWSER_RULES_YAML, {
        OAUTH_PROVIDER: PROVIDER,
        OAUTH_NAME: PROVIDER_NAME,
        OAUTH_ISSUER: idp.issuer,
        OAUTH_CLIENT_ID: CLIENT.client_id,
        OAUTH_CLIENT_SECRET: CLIENT.client_secret,
        OAUTH_CA_FILE: idp.caFile,
        OAUTH_PRIVATE_NETWORK: "true",
        OAUTH_AUTO_LINK: "true",
      });
      await idp.registerClient({ ...CLIENT, redirect_uris: [stack.url(PORTAL_HOST, `/api/auth/oauth/${PROVIDER}/callback`)] });
    });
    afterAll(async () => {
      await stack?.close();
      await idp?.close();
    });

    /** Where Gatehouse's own pages are for a visit to the app: the portal (forward-auth), or the app host under Gatehouse's prefix. */
    const gatehousePage = (path: string): string => (mode === "forward-auth" ? stack.url(PORTAL_HOST, path) : stack.url(APP_HOST, `/.gatehouse${path}`));

    /**
     * On the sign-in page: "Sign in with Test IdP" → the IdP's own form. Until
     * the sign-in page has provider buttons at all (no link or form to
     * `/api/auth/oauth/` on it), the browser opens the start URL with the
     * page's return value instead; once it has them, the button must be there.
     */
    async function chooseProvider(page: Page): Promise<void> {
      const name = `Sign in with ${PROVIDER_NAME}`;
      const button = page.getByRole("button", { name, exact: true }).or(page.getByRole("link", { name, exact: true }));
      const hasProviders = (await page.content()).includes("/api/auth/oauth/");
      if (hasProviders || (await button.count()) > 0) {
        await expect.poll(() => button.isVisible()).toBe(true);
        buttonSeen.push(true);
        await Promise.all([page.waitForURL((u) => u.origin === idp.issuer), button.click()]);
      } else {
        buttonSeen.push(false);
        const back = new URL(page.url()).searchParams.get("return") ?? "";
        await page.goto(stack.url(PORTAL_HOST, `/api/auth/oauth/${PROVIDER}/start?return=${encodeURIComponent(back)}`));
      }
      expect(new URL(page.url()).origin).toBe(idp.issuer);
      await expect.poll(() => page.title()).toBe("Test IdP sign-in");
    }

    /** The IdP's form: Login, Password, "Sign in"; resolves once the browser is at `until`. */
    async function signInAtIdp(page: Page, login: string, until: string | RegExp | ((u: URL) => boolean)): Promise<void> {
      await page.getByLabel("Login").fill(login);
      await page.getByLabel("Password").fill(IDP_PASSWORD);
      await Promise.all([page.waitForURL(until), page.getByRole("button", { name: "Sign in", exact: true }).click()]);
    }

    /** Anonymous deep link → Gatehouse's sign-in page (with the deep link as its return target). */
    async function toSignInPage(page: Page, deep: string): Promise<void> {
      await page.goto(deep);
      expect(withoutQuery(page.url())).toBe(gatehousePage("/login"));
      expect(new URL(page.url()).searchParams.get("return")).toBe(deep);
      await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true);
    }

    it("deep link → sign-in page → \"Sign in with Test IdP\" → the IdP's form → back on the exact URL as a new account (REGISTRATION=open); app2 without a second sign-in; no token or code left in the browser (OIDC-06)", async () => {
      const user = idpUser(idp);
      const mark = stack.upstream.seen.length;
      const w: WatchedContext = await watchedContext(chromium, tls);
      // Everything Chromium received or sent from here on: URLs, headers, bodies.
      const seen: Promise<{ url: string; text: string; afterCallback: boolean }>[] = [];
      let callbackDone = false;
      w.context.on("response", (res) => {
        const afterCallback = callbackDone;
        if (res.url().includes(`/api/auth/oauth/${PROVIDER}/callback`)) callbackDone = true;
        seen.push(
          (async () => {
            const headers = JSON.stringify(await res.allHeaders());
            const body = await res.body().then((b) => b.toString("utf8"), () => "");
            return { url: res.url(), text: `${headers}\n${body}`, afterCallback };
          })(),
        );
      });
      w.context.on("request", (req) => {
        const afterCallback = callbackDone;
        seen.push(req.allHeaders().then((h) => ({ url: req.url(), text: `${req.url()}\n${JSON.stringify(h)}\n${req.postData() ?? ""}`, afterCallback })));
      });
      const page = await w.page();
      const deep = stack.url(APP_HOST, DEEP);

      await toSignInPage(page, deep);
      await chooseProvider(page);
      expect(seenAt(stack, APP_HOST, DEEP, mark)).toEqual([]);
      await signInAtIdp(page, user.login, deep);

      // Back on the exact deep link, query included, as the account the sign-in created (username from preferred_username).
      expect(page.url()).toBe(deep);
      expect(seenAt(stack, APP_HOST, DEEP, mark)).toEqual([user.login]);
      expect(await echoedUser(page)).toBe(user.login);
      const account = await stack.gh.h.gh.stores.users.findByLogin({ username: user.login });
      expect(account?.email).toBe(`${user.login}@idp.example.test`);
      const [created] = await stack.gh.h.gh.stores.audit.list({ userId: account!.id, type: "oauth_login", limit: 5 });
      expect(created?.details).toMatchObject({ provider: PROVIDER, account: "created" });

      // Another app on another subdomain: no second sign-in (COOKIE_DOMAIN single sign-on).
      const other = stack.url(APP2_HOST, "/other?z=3");
      await page.goto(other);
      expect(page.url()).toBe(other);
      expect(seenAt(stack, APP2_HOST, "/other?z=3", mark)).toEqual([user.login]);

      // OIDC-06: the IdP's tokens and the authorization code (redeemed by Gatehouse) never reach the browser.
      const code = idp.requests.token.at(-1)?.get("code");
      expect(code).toMatch(/^\S{20,}$/);
      const tokens = issuedTokens();
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      const secrets = [...tokens, code!];
      const cdp = await w.context.newCDPSession(page);
      const { entries } = (await cdp.send("Page.getNavigationHistory")) as { entries: { url: string }[] };
      const callbackAt = entries.findIndex((e) => e.url.includes(`/api/auth/oauth/${PROVIDER}/callback`));
      // The callback 303s away: it is not a history entry of its own, and no entry holds the code.
      expect(callbackAt).toBe(-1);
      for (const e of entries) expect(e.url, "a history entry").not.toContain(code!);
      // Storage and script-visible cookies of the portal and both app origins.
      for (const url of new Set([stack.url(PORTAL_HOST, "/account"), gatehousePage("/account"), deep, other])) {
        await page.goto(url);
        const state = await page.evaluate<string>("JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })");
        for (const s of secrets) expect(state, `storage or document.cookie at ${url}`).not.toContain(s);
      }
      const records = await Promise.all(seen);
      // The recording works: the IdP's redirect and the callback request carry the code (by design).
      expect(records.filter((r) => r.text.includes(code!)).length).toBeGreaterThanOrEqual(2);
      for (const r of records) {
        // Tokens: nowhere, IdP pages included. The code: only on its way from the IdP to the callback.
        for (const t of tokens) expect(r.text, `a response or request at ${r.url}`).not.toContain(t);
        if (r.afterCallback) expect(r.text, `after the callback, at ${r.url}`).not.toContain(code!);
        if (new URL(r.url).origin !== idp.issuer && !r.url.includes(`/api/auth/oauth/${PROVIDER}/callback`)) expect(r.text, `at ${r.url}`).not.toContain(code!);
      }
      await w.closeClean();
    });

    // The step-up and the cancellation are Gatehouse's own pages: nginx only (both modes; the cancellation once).
    if (kind === "nginx")
      it("an admin with an authenticator app, auto-linked by verified email: the IdP sign-in lands on Gatehouse's second-factor form; the authenticator code reaches the app; the session is aal2", async () => {
      const gh = stack.gh.h.gh;
      const clock = stack.gh.h.clock;
      const local = await stack.user();
      await gh.stores.users.update(local.id, { role: "admin" }, clock.now());
      gh.sessions.forgetUser(local.id);
      const email = `${local.name}@example.test`;
      const { secret } = await gh.totp.enrol({ id: local.id, username: local.name });
      await gh.totp.confirm({ id: local.id, email }, await totpCodeAt(secret, clock.now()), { ip: "127.0.0.1", userAgent: "test" });
      const user = idpUser(idp, email);
      const mark = stack.upstream.seen.length;

      const w = await watchedContext(chromium, tls);
      const page = await w.page();
      const deep = stack.url(APP_HOST, DEEP);
      await toSignInPage(page, deep);
      await chooseProvider(page);
      await signInAtIdp(page, user.login, (u) => u.href.startsWith(stack.url(PORTAL_HOST, "/login/second-factor")));
      await expect.poll(() => page.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
      expect(seenAt(stack, APP_HOST, DEEP, mark)).toEqual([]);
      // The callback 303s to the second-factor form: the form's URL and every history entry are free of the (spent) code.
      const spent = idp.requests.token.at(-1)?.get("code");
      expect(spent).toMatch(/^\S{20,}$/);
      expect(withoutQuery(page.url())).toBe(stack.url(PORTAL_HOST, "/login/second-factor"));
      const cdp = await w.context.newCDPSession(page);
      const { entries } = (await cdp.send("Page.getNavigationHistory")) as { entries: { url: string }[] };
      for (const e of entries) expect(e.url, "a history entry").not.toContain(spent!);

      // The next step (the enrolment used the current one; a step is accepted once).
      await page.getByLabel("Code", { exact: true }).fill(await totpCodeAt(secret, clock.now() + 30_000));
      await Promise.all([page.waitForURL(deep), page.getByRole("button", { name: "Continue" }).first().click()]);
      expect(seenAt(stack, APP_HOST, DEEP, mark)).toEqual([local.name]);
      expect(await echoedUser(page)).toBe(local.name);
      const [linked] = await gh.stores.audit.list({ userId: local.id, type: "oauth_login", limit: 5 });
      expect(linked?.details).toMatchObject({ provider: PROVIDER, account: "auto_linked" });
      const signIns = await gh.stores.audit.list({ userId: local.id, type: "login_success", limit: 5 });
      expect(signIns.map((e) => `${String(e.details.amr)} ${String(e.details.aal)}`)).toEqual(["fed otp aal2"]);
      // The redeemed code never reaches the app (no Referer or header of the app's requests carries it).
      const code = idp.requests.token.at(-1)?.get("code");
      expect(code).toMatch(/^\S{20,}$/);
      expect(JSON.stringify(stack.upstream.seen.slice(mark))).not.toContain(code!);
      expect(page.url()).not.toContain(code!);
      await w.closeClean();
    });

    if (kind === "nginx" && mode === "forward-auth")
      it("a cancelled sign-in (the IdP answers error=access_denied) shows Gatehouse's own error page (400), not the provider's message", async () => {
      const w = await watchedContext(chromium, tls);
      w.allow(/status of 400/);
      const page = await w.page();
      const deep = stack.url(APP_HOST, DEEP);
      const mark = stack.upstream.seen.length;
      await toSignInPage(page, deep);
      const before = idp.requests.authorization.length;
      await chooseProvider(page);
      const state = idp.requests.authorization[before]?.get("state");
      expect(state).toMatch(/^[\w-]{43}$/);
      // The user gives up at the IdP, which sends the browser back with the error.
      const back = new URL(stack.url(PORTAL_HOST, `/api/auth/oauth/${PROVIDER}/callback`));
      back.search = new URLSearchParams({ error: "access_denied", error_description: "The end-user cancelled: <b>provider words</b>", state: state!, iss: idp.issuer }).toString();
      const res = await page.goto(back.href);
      expect(res?.status()).toBe(400);
      expect(res?.headers()["content-type"]).toMatch(/^text\/html/);
      await expect.poll(() => page.locator("[data-error]").getAttribute("data-error")).toBe("oauth_failed");
      const text = await page.locator("body").innerText();
      expect(text).toContain("The sign-in with the identity provider did not succeed; start again.");
      expect(text).not.toMatch(/access_denied|provider words|end-user/);
      expect(seenAt(stack, APP_HOST, DEEP, mark)).toEqual([]);
      const [failure] = await stack.gh.h.gh.stores.audit.list({ type: "oauth_failure", limit: 1 });
      expect(failure?.details).toMatchObject({ provider: PROVIDER, reason: "cancelled" });
      await w.closeClean();
    });
  });
}

describeBrowser("browser: provider sign-in (the local OpenID Connect provider) through real proxies with TLS", () => {
  for (const kind of ["nginx", "caddy"] as const) {
    describeStack(kind, "forward-auth");
    describeStack(kind, "reverse-proxy");
  }
  afterAll(() => {
    if (buttonSeen.includes(false)) console.warn(`\n  provider-sign-in-proxied: no "Sign in with ${PROVIDER_NAME}" on the sign-in page yet; the start URL was opened instead.\n`);
  });
});
