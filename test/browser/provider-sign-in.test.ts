import { randomUUID } from "node:crypto";
import type { Browser, Page, Response } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ProviderSettings } from "../../src/core/oauth/identity-provider.js";
import { totpCodeAt } from "../../src/core/mfa/totp/totp-code.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { csrfTokenOn, pathOf, sessionRows, signIn, signOut } from "../helpers/browser/portal.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";
import { uname } from "../helpers/names.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";
import { startTestIdp, type TestIdp, type TestIdpUser } from "../helpers/oauth/test-idp.js";

const PROVIDER = "test-idp";
const BUTTON = "Sign in with Test IdP";
const CLIENT_SECRET = "browser-client-secret-0123456789abcdef";
const IDP_TITLE = "Test IdP sign-in";

/** What a JSON API call made by the page's own script answered. */
interface FetchAnswer {
  status: number;
  body: string;
}

describeBrowser("browser: provider sign-in on the portal, through the local OpenID Connect provider (sqlite)", () => {
  let browser: Browser;
  let idp: TestIdp;
  /** Gatehouses by what they are configured for; each is a client of the one IdP. */
  let open: LiveGatehouse;
  let closed: LiveGatehouse;
  let invite: LiveGatehouse;
  let autoLink: LiveGatehouse;
  const started: LiveGatehouse[] = [];
  /** Whether the sign-in page offered the provider's button (else the start URL was opened directly). */
  const buttonSeen: boolean[] = [];
  let clients = 0;

  /** A listening Gatehouse whose provider `test-idp` is the local IdP, registered there with this Gatehouse's callback. */
  async function portal(env: Record<string, string>, provider: Partial<ProviderSettings> = {}): Promise<LiveGatehouse> {
    const clientId = `gatehouse-browser-${++clients}`;
    const settings = providerSettings({ issuer: idp.issuer, clientId, clientSecret: CLIENT_SECRET, caFile: idp.caFile, privateNetwork: true, ...provider });
    // On http://localhost, another host than the IdP's 127.0.0.1, as in real life: Gatehouse's sign-out sends
    // Clear-Site-Data "cookies", which on one host would also wipe the IdP's session (cookies ignore ports).
    const gh = await startLiveGatehouse(env, undefined, { providers: [settings], hostname: "localhost" });
    started.push(gh);
    await idp.registerClient({ client_id: clientId, client_secret: CLIENT_SECRET, redirect_uris: [gh.url(`/api/auth/oauth/${PROVIDER}/callback`)] });
    return gh;
  }

  beforeAll(async () => {
    [browser, idp] = await Promise.all([launchChromium(["--ignore-certificate-errors"]), startTestIdp()]);
    [open, closed, invite, autoLink] = await Promise.all([
      portal({ REGISTRATION: "open" }),
      portal({ REGISTRATION: "closed" }),
      portal({ REGISTRATION: "invite" }),
      portal({ REGISTRATION: "open" }, { autoLink: true }),
    ]);
  });
  afterAll(async () => {
    // Until the sign-in page has the provider's button, the tests open the start URL it leads to; say which ran.
    const clicked = buttonSeen.filter(Boolean).length;
    console.info(`provider sign-in: the "${BUTTON}" button was clicked ${clicked} of ${buttonSeen.length} times (else the start URL was opened)`);
    await browser?.close();
    for (const gh of started) await gh.close();
    await idp?.close();
  });

  /** A new IdP user (unique login and subject); the email is verified unless said otherwise. */
  function idpUser(prefix: string, o: Partial<TestIdpUser> = {}): TestIdpUser {
    const login = uname(prefix);
    const user: TestIdpUser = { sub: `sub-${randomUUID()}`, login, password: `pw-${login}-at-the-idp`, email: `${login}@idp.example`, email_verified: true, preferred_username: login, ...o };
    idp.addUser(user);
    return user;
  }

  async function fresh(): Promise<{ w: WatchedContext; page: Page }> {
    const w = await watchedContext(browser);
    return { w, page: await w.page() };
  }

  /**
   * From `/login`, "Sign in with Test IdP" (the button when the page offers it,
   * else the start URL the button leads to); resolves once the browser is at the
   * IdP's form or, with the IdP's SSO, back on Gatehouse.
   */
  async function startAtLogin(page: Page, gh: LiveGatehouse): Promise<void> {
    await page.goto(gh.url("/login"));
    const button = page.getByRole("button", { name: BUTTON }).or(page.getByRole("link", { name: BUTTON }));
    const present = (await button.count()) > 0;
    buttonSeen.push(present);
    const left = page.waitForURL((url) => url.origin === idp.issuer || url.pathname !== "/login", { waitUntil: "load" });
    if (present) await Promise.all([left, button.first().click()]);
    else await Promise.all([left, page.goto(gh.url(`/api/auth/oauth/${PROVIDER}/start`))]);
  }

  /** Fills the IdP's own form; resolves with Gatehouse's answer to the callback once its page has loaded. */
  async function signInAtIdp(page: Page, gh: LiveGatehouse, user: TestIdpUser): Promise<Response> {
    await expect.poll(() => page.title()).toBe(IDP_TITLE);
    expect(new URL(page.url()).origin).toBe(idp.issuer);
    await page.getByLabel("Login").fill(user.login);
    await page.getByLabel("Password").fill(user.password);
    const callback = page.waitForResponse((r) => r.url().startsWith(gh.url(`/api/auth/oauth/${PROVIDER}/callback`)));
    await Promise.all([page.waitForURL((url) => url.origin === gh.origin, { waitUntil: "load" }), page.getByRole("button", { name: "Sign in" }).click()]);
    return callback;
  }

  /** The whole provider sign-in from `/login`: the button, the IdP's form; Gatehouse's answer to the callback. */
  async function providerSignIn(page: Page, gh: LiveGatehouse, user: TestIdpUser): Promise<Response> {
    await startAtLogin(page, gh);
    return signInAtIdp(page, gh, user);
  }

  /** The error page's code (`data-error`) and heading text. */
  async function errorPage(page: Page): Promise<{ code: string | null; text: string }> {
    const card = page.locator("[data-error]");
    return { code: await card.getAttribute("data-error"), text: (await card.textContent()) ?? "" };
  }

  /** Whether the browser is signed out: `/account` sends it to the sign-in page. */
  async function expectSignedOut(page: Page, gh: LiveGatehouse): Promise<void> {
    await page.goto(gh.url("/account"));
    expect(pathOf(page)).toBe("/login");
    expect((await page.context().cookies(gh.origin)).some((c) => c.name.endsWith("gatehouse_session"))).toBe(false);
  }

  /** The profile table's value of `row` ("Username", "Role", …) on `/account`. */
  async function profileValue(page: Page, row: string): Promise<string> {
    const cell = page.locator("section[aria-labelledby=profile-h] tr", { has: page.getByRole("rowheader", { name: row, exact: true }) }).locator("td");
    return ((await cell.textContent()) ?? "").trim();
  }

  /** A JSON API call by the page itself (same origin, with the session cookie and the page's CSRF token in `X-CSRF-Token`). */
  async function api(page: Page, method: "GET" | "DELETE", path: string): Promise<FetchAnswer> {
    const csrf = await csrfTokenOn(page);
    return page.evaluate(
      `fetch(${JSON.stringify(path)}, { method: ${JSON.stringify(method)}, headers: { "X-CSRF-Token": ${JSON.stringify(csrf)} } }).then(async (r) => ({ status: r.status, body: await r.text() }))`,
    );
  }

  /** The session cookie's value in the browser, or null. */
  async function sessionCookieValue(page: Page, gh: LiveGatehouse): Promise<string | null> {
    return (await page.context().cookies(gh.origin)).find((c) => c.name.endsWith("gatehouse_session"))?.value ?? null;
  }

  const findUser = (gh: LiveGatehouse, username: string) => gh.h.gh.stores.users.findByLogin({ username: username.toLowerCase() });

  it("registration open: the first provider sign-in creates the account, signed in on /account as the IdP's preferred_username", async () => {
    const user = idpUser("opal");
    const { w, page } = await fresh();
    const res = await providerSignIn(page, open, user);
    expect(res.status()).toBe(303);
    expect(pathOf(page)).toBe("/account");
    expect(await profileValue(page, "Username")).toBe(user.login);
    // The provider-verified address, with no "unverified" badge (and the page's "Change" link after it).
    expect(await profileValue(page, "Email")).toBe(`${user.email} Change`);
    expect(await profileValue(page, "Role")).toBe("user");
    // One factor of its own kind, from the identity provider.
    await expect.poll(() => sessionRows(page).first().textContent()).toContain("identity provider");
    const account = await findUser(open, user.login);
    expect(account?.passwordHash).toBeNull();
    expect(await open.h.gh.stores.externalIdentities.listByUser(account!.id)).toMatchObject([{ provider: PROVIDER, issuer: idp.issuer, subject: user.sub }]);
    await w.closeClean();
  });

  it("registration closed: Gatehouse's refusal page (403 oauth_account_not_linked), and the browser stays signed out", async () => {
    const user = idpUser("cleo");
    const { w, page } = await fresh();
    w.allow(/status of 403/);
    const res = await providerSignIn(page, closed, user);
    expect(res.status()).toBe(403);
    const shown = await errorPage(page);
    expect(shown.code).toBe("oauth_account_not_linked");
    expect(shown.text).toContain("No account is linked");
    expect(await page.getByRole("link", { name: "Go to sign in" }).isVisible()).toBe(true);
    expect(await findUser(closed, user.login)).toBeNull();
    await expectSignedOut(page, closed);
    await w.closeClean();
  });

  it("registration by invitation: a pending invitation to the IdP's verified address creates the account with the invited role; without one, the refusal page", async () => {
    const invited = idpUser("ivy");
    await invite.h.gh.invitations.create({ user: null, origin: { ip: "127.0.0.1", userAgent: "test" } }, { email: invited.email!, role: "admin" });
    const a = await fresh();
    expect((await providerSignIn(a.page, invite, invited)).status()).toBe(303);
    expect(pathOf(a.page)).toBe("/account");
    expect(await profileValue(a.page, "Username")).toBe(invited.login);
    expect(await profileValue(a.page, "Role")).toBe("admin");
    // The invitation is used up, by this account.
    const account = await findUser(invite, invited.login);
    const used = (await invite.h.gh.invitations.list({ user: null, origin: { ip: "127.0.0.1", userAgent: "test" } }, 10)).find((i) => i.email === invited.email);
    expect(used).toMatchObject({ usedBy: account?.id });
    expect(used?.usedAt).not.toBeNull();
    await a.w.closeClean();

    const stranger = idpUser("ivo");
    const b = await fresh();
    b.w.allow(/status of 403/);
    expect((await providerSignIn(b.page, invite, stranger)).status()).toBe(403);
    expect(await errorPage(b.page)).toMatchObject({ code: "oauth_account_not_linked", text: expect.stringContaining("No account is linked") });
    expect(await findUser(invite, stranger.login)).toBeNull();
    await expectSignedOut(b.page, invite);
    await b.w.closeClean();
  });

  it("auto-link off: a local password account with the IdP's address is not taken over (refusal page); it still signs in with its password, with no identity linked", async () => {
    const local = await open.h.account("user", uname("pam"));
    const email = `${local.name}@example.test`;
    const user = idpUser("mimic", { email, email_verified: true, preferred_username: local.name });
    const { w, page } = await fresh();
    w.allow(/status of 403/);
    expect((await providerSignIn(page, open, user)).status()).toBe(403);
    expect((await errorPage(page)).code).toBe("oauth_account_not_linked");
    await expectSignedOut(page, open);

    await signIn(page, open, local.name);
    expect(pathOf(page)).toBe("/account");
    expect(await profileValue(page, "Username")).toBe(local.name);
    expect(await open.h.gh.stores.externalIdentities.listByUser(local.id)).toEqual([]);
    expect(JSON.parse((await api(page, "GET", "/api/account/identities")).body)).toEqual({ identities: [] });
    await w.closeClean();
  });

  it("auto-link on and email_verified: the provider sign-in signs in as the existing account (its username on /account)", async () => {
    const local = await autoLink.h.account("user", uname("lou"));
    const user = idpUser("linker", { email: `${local.name}@example.test`, email_verified: true });
    const { w, page } = await fresh();
    expect((await providerSignIn(page, autoLink, user)).status()).toBe(303);
    expect(pathOf(page)).toBe("/account");
    expect(await profileValue(page, "Username")).toBe(local.name);
    expect(await autoLink.h.gh.stores.externalIdentities.listByUser(local.id)).toMatchObject([{ provider: PROVIDER, subject: user.sub }]);
    await w.closeClean();
  });

  it("step-up: an admin with an authenticator app, linked to the IdP user → provider sign-in → the second-factor form → the code → /account, the session 'identity provider + code · 2 factors'", async () => {
    const admin = await open.h.account("admin", uname("ada"));
    const gh = open.h.gh;
    const origin = { ip: "127.0.0.1", userAgent: "test" };
    const { secret } = await gh.totp.enrol({ id: admin.id, username: admin.name });
    await gh.totp.confirm({ id: admin.id, email: `${admin.name}@example.test` }, await totpCodeAt(secret, open.h.clock.now()), origin);
    const user = idpUser("adaidp", { email: `${admin.name}@idp.example` });
    const linked = await gh.stores.externalIdentities.insert({ id: randomUUID(), userId: admin.id, provider: PROVIDER, issuer: idp.issuer, subject: user.sub, email: user.email!, createdAt: open.h.clock.now(), lastUsedAt: null });
    expect(linked.ok).toBe(true);

    const { w, page } = await fresh();
    const res = await providerSignIn(page, open, user);
    // The callback redirects to the form (so no history entry keeps its code).
    expect(res.status()).toBe(303);
    await expect.poll(() => pathOf(page)).toBe("/login/second-factor");
    await expect.poll(() => page.getByRole("heading", { name: "Confirm it is you" }).isVisible()).toBe(true);
    // No session yet: only the pending sign-in.
    expect(await sessionCookieValue(page, open)).toBeNull();
    // The setup used the current step; a step is accepted once, so the next one.
    await page.getByLabel("Code", { exact: true }).fill(await totpCodeAt(secret, open.h.clock.now() + 30_000));
    await Promise.all([page.waitForURL((url) => url.pathname === "/account"), page.getByRole("button", { name: "Continue" }).first().click()]);
    expect(await profileValue(page, "Username")).toBe(admin.name);
    const mine = sessionRows(page).filter({ hasText: "This device" });
    await expect.poll(() => mine.textContent()).toContain("identity provider + code · 2 factors");
    await w.closeClean();
  });

  it("unlinking: the only sign-in method of a provider-made account cannot be unlinked (after re-authenticating at the IdP: 409 last_sign_in_method)", async () => {
    const user = idpUser("una");
    const { w, page } = await fresh();
    w.allow(/status of 40[39]/);
    expect((await providerSignIn(page, open, user)).status()).toBe(303);
    const listed = JSON.parse((await api(page, "GET", "/api/account/identities")).body) as { identities: { id: string; provider: string; providerName: string }[] };
    expect(listed.identities).toMatchObject([{ provider: PROVIDER, providerName: "Test IdP" }]);
    const id = listed.identities[0]!.id;

    // Just signed in (a sign-in counts as a recent re-authentication): refused as the last way to sign in.
    const last = await api(page, "DELETE", `/api/account/identities/${id}`);
    expect(last.status).toBe(409);
    expect(JSON.parse(last.body)).toMatchObject({ code: "last_sign_in_method" });

    // Past the sudo window (10 min): 403 reauth_required; re-authenticating at the IdP (prompt=login: its form
    // again, despite its session) brings the browser back to /account, and the answer is 409 again.
    open.h.clock.advance(11 * 60_000);
    const stale = await api(page, "DELETE", `/api/account/identities/${id}`);
    expect(stale.status).toBe(403);
    expect(JSON.parse(stale.body)).toMatchObject({ code: "reauth_required" });
    await reauthenticate(page, open, user);
    const again = await api(page, "DELETE", `/api/account/identities/${id}`);
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body)).toMatchObject({ code: "last_sign_in_method" });
    expect(JSON.parse((await api(page, "GET", "/api/account/identities")).body).identities).toHaveLength(1);
    await w.closeClean();
  });

  /** The account page's re-authentication through the provider: a POST of the start route (intent=reauth) with the page's CSRF token. */
  async function reauthenticate(page: Page, gh: LiveGatehouse, user: TestIdpUser): Promise<void> {
    await page.goto(gh.url("/account"));
    const csrf = await csrfTokenOn(page);
    const fields = { _csrf: csrf, intent: "reauth", return: "/account" };
    const atIdp = page.waitForURL((url) => url.origin === idp.issuer, { waitUntil: "load" });
    await page.evaluate(`(() => {
      const form = document.createElement("form");
      form.method = "post";
      form.action = ${JSON.stringify(`/api/auth/oauth/${PROVIDER}/start`)};
      for (const [name, value] of Object.entries(${JSON.stringify(fields)})) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    })()`);
    await atIdp;
    expect((await signInAtIdp(page, gh, user)).status()).toBe(303);
    expect(pathOf(page)).toBe("/account");
  }

  it("the IdP's own SSO: after signing out of Gatehouse, the button signs in again without the IdP's form, with a brand-new session", async () => {
    const user = idpUser("sso");
    const { w, page } = await fresh();
    expect((await providerSignIn(page, open, user)).status()).toBe(303);
    const first = await sessionCookieValue(page, open);
    expect(first).not.toBeNull();
    await page.goto(open.url("/account"));
    await signOut(page);

    let idpForm = false;
    page.on("load", () => void page.title().then((t) => (idpForm ||= t === IDP_TITLE), () => undefined));
    const callback = page.waitForResponse((r) => r.url().startsWith(open.url(`/api/auth/oauth/${PROVIDER}/callback`)));
    await startAtLogin(page, open);
    expect((await callback).status()).toBe(303);
    expect(pathOf(page)).toBe("/account");
    expect(idpForm).toBe(false);
    expect(await profileValue(page, "Username")).toBe(user.login);
    const second = await sessionCookieValue(page, open);
    expect(second).not.toBeNull();
    expect(second).not.toBe(first);
    // The old session is over: the list shows only this one.
    await expect.poll(() => sessionRows(page).count()).toBe(1);
    await w.closeClean();
  });
});
