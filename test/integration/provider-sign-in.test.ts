import type { LightMyRequestResponse } from "fastify";
import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderSettings } from "../../src/core/oauth/identity-provider.js";
import type { AuditEvent } from "../../src/core/audit/audit-event.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, pendingCookieFrom, sessionCookieFrom } from "../helpers/harness.js";
import { mergeCookies, startProviderStack, type ProviderStack } from "../helpers/oauth/provider-stack.js";
import type { TestIdpUser } from "../helpers/oauth/test-idp.js";
import { WebClient } from "../helpers/web-client.js";

const MIN = 60_000;
const OPERATOR = { user: null, origin: { ip: "127.0.0.1", userAgent: "test" } };

let seq = 0;
/** A fresh IdP user (verified address at example.com unless told otherwise). */
function idpUser(prefix: string, extra: Partial<TestIdpUser> = {}): TestIdpUser {
  const name = `${prefix}${++seq}p${process.pid % 1000}`;
  return { sub: `sub-${name}`, login: name, password: `pw-${name}`, email: `${name}@example.com`, email_verified: true, preferred_username: name, ...extra };
}

/** The error code an HTML error page shows. */
const errorOf = (res: LightMyRequestResponse) => /data-error="([^"]+)"/.exec(res.body)?.[1] ?? null;

/** A stack started before the block's tests and closed after them; `get()` inside tests. */
function useStack(backend: "sqlite" | "postgres", options: { env?: Record<string, string>; provider?: Partial<ProviderSettings> } = {}): () => ProviderStack {
  let s: ProviderStack | undefined;
  beforeAll(async () => {
    s = await startProviderStack(backend, options);
  });
  afterAll(async () => s?.close());
  return () => {
    if (!s) throw new Error("stack not started");
    return s;
  };
}

function helpers(get: () => ProviderStack) {
  const add = (user: TestIdpUser) => {
    get().idp.addUser(user);
    return user;
  };
  const signIn = (user: TestIdpUser, options: { returnTo?: string; cookie?: string } = {}) => get().signIn(user.login, user.password, options);
  const me = (cookie: string) => get().h.request({ method: "GET", url: "/api/auth/me", cookie });
  const currentSession = async (cookie: string) => {
    const list = await get().h.request({ method: "GET", url: "/api/account/sessions", cookie });
    expect(list.statusCode, list.body).toBe(200);
    return (list.json().sessions as { current: boolean; aal: string; amr: string[] }[]).find((x) => x.current);
  };
  const identities = async (cookie: string) => {
    const res = await get().h.request({ method: "GET", url: "/api/account/identities", cookie });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().identities as { id: string; provider: string; providerName: string; email: string | null; createdAt: string; lastUsedAt: string | null }[];
  };
  const audit = (userId: string | undefined, type: string): Promise<AuditEvent[]> => get().h.gh.stores.audit.list({ ...(userId !== undefined ? { userId } : {}), type, limit: 20 });
  const userNamed = (username: string) => get().h.gh.stores.users.findByLogin({ username: username.toLowerCase() });
  const userWithEmail = (email: string) => get().h.gh.stores.users.findByLogin({ email: email.toLowerCase() });
  /** Signs `user` in through the provider; expects a session, returns its cookie and account. */
  const signedIn = async (user: TestIdpUser) => {
    const { res, cookie } = await signIn(user);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
    const who = await me(cookie);
    expect(who.statusCode).toBe(200);
    return { cookie, id: who.json().user.id as string, res };
  };
  const setUser = async (id: string, change: { role?: "user" | "admin" | "superadmin"; blocked?: boolean }) => {
    await get().h.gh.stores.users.update(id, change, get().h.clock.now());
    get().h.gh.sessions.forgetUser(id);
  };
  /** Enrols and confirms a real authenticator app on a session; returns the secret (the clock then one step on). */
  const enrolTotp = async (cookie: string) => {
    const h = get().h;
    const enrol = await h.request({ method: "POST", url: "/api/account/mfa/totp", cookie });
    expect(enrol.statusCode, enrol.body).toBe(200);
    const { secret } = enrol.json() as { secret: string };
    const confirm = await h.request({ method: "POST", url: "/api/account/mfa/totp/confirm", cookie, json: { code: await totpCode(secret) } });
    expect(confirm.statusCode, confirm.body).toBe(200);
    h.clock.advance(30_000);
    return secret;
  };
  const totpCode = (secret: string) => generate({ secret, epoch: Math.floor(get().h.clock.now() / 1000) });
  return { add, signIn, me, currentSession, identities, audit, userNamed, userWithEmail, signedIn, setUser, enrolTotp, totpCode };
}

/** A browser signed in with a password through the login form, that starts a link from its account page. */
async function passwordBrowser(s: ProviderStack) {
  const local = await s.h.account();
  const b = new WebClient(s.h);
  const res = await b.signIn(local.name, GOOD_PASSWORD);
  expect(res.statusCode).toBe(303);
  return { b, local };
}

/** POSTs the link form from the account page; the answer. */
async function startLink(b: WebClient): Promise<LightMyRequestResponse> {
  const page = await b.get("/account");
  expect(page.statusCode).toBe(200);
  return b.post("/api/auth/oauth/test-idp/start", { intent: "link" });
}

/** The password re-authentication of a browser's session (its rotated cookie kept in the jar). */
async function reauth(s: ProviderStack, b: WebClient) {
  const res = await s.h.request({ method: "POST", url: "/api/auth/reauth", cookie: b.cookie, json: { password: GOOD_PASSWORD } });
  expect(res.statusCode, res.body).toBe(204);
  for (const c of res.cookies) b.jar.set(c.name, c.value);
}

for (const backend of backendNames()) {
  describe(`provider sign-in: accounts under REGISTRATION=open (${backend})`, () => {
    const get = useStack(backend);
    const t = helpers(get);

    it("a first sign-in creates the account (username from preferred_username, verified email stored); the next finds it by (issuer, sub) even after the address changed; amr fed, aal1", async () => {
      const alice = t.add(idpUser("alice"));
      const first = await t.signedIn(alice);
      expect(first.res.headers.location).toBe("/account");
      const user = (await t.me(first.cookie)).json().user;
      expect(user).toMatchObject({ username: alice.preferred_username, email: alice.email, emailVerified: true, role: "user" });
      expect(await t.currentSession(first.cookie)).toMatchObject({ aal: "aal1", amr: ["fed"] });
      const ids = await t.identities(first.cookie);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatchObject({ provider: "test-idp", providerName: "Test IdP", email: alice.email });
      expect((await t.audit(user.id, "register"))[0]?.details).toMatchObject({ via: "oauth", provider: "test-idp", role: "user" });
      expect((await t.audit(user.id, "oauth_login"))[0]?.details).toMatchObject({ provider: "test-idp", account: "created" });
      expect((await t.audit(user.id, "login_success"))[0]?.details).toMatchObject({ method: "provider" });

      // The IdP user's address changes: still the same account (the identity is keyed on issuer and subject only).
      t.add({ ...alice, email: `changed-${alice.email}` });
      const again = await t.signedIn(alice);
      expect(again.id).toBe(user.id);
      expect((await t.me(again.cookie)).json().user.email).toBe(alice.email);
      expect(await t.identities(again.cookie)).toHaveLength(1);
      expect((await t.audit(user.id, "oauth_login")).map((e) => e.details.account).sort()).toEqual(["created", "linked"]);
      expect(await t.currentSession(again.cookie)).toMatchObject({ aal: "aal1", amr: ["fed"] });
    });

    it("an unverified address is not stored on the created account; a taken username gets a suffix", async () => {
      const bob = t.add(idpUser("bob", { email_verified: false }));
      const { cookie } = await t.signedIn(bob);
      expect((await t.me(cookie)).json().user).toMatchObject({ username: bob.preferred_username, email: null, emailVerified: false });
      expect(await t.userWithEmail(bob.email!)).toBeNull();

      // Taken: the address's local part, then the suggestion with a suffix.
      const twin = t.add(idpUser("twin", { preferred_username: bob.preferred_username }));
      const other = await t.signedIn(twin);
      expect((await t.me(other.cookie)).json().user.username).toBe(twin.login);
      const triple = t.add(idpUser("triple", { preferred_username: bob.preferred_username, email: `${bob.login}@example.org` }));
      const third = await t.signedIn(triple);
      expect((await t.me(third.cookie)).json().user.username).toBe(`${bob.preferred_username}-2`);
    });

    it("attack: account takeover by a provider identity with a local account's address — auto-link off: 403 oauth_account_not_linked, nothing linked or created", async () => {
      const local = await get().h.account();
      const email = `${local.name}@example.test`;
      const intruder = t.add(idpUser("intruder", { email, email_verified: true }));
      const { res, cookie } = await t.signIn(intruder);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("oauth_account_not_linked");
      expect(sessionCookieFrom(res)).toBeNull();
      expect((await t.me(cookie)).statusCode).toBe(401);
      expect(await t.identities(local.cookie)).toEqual([]);
      expect(await t.userNamed(intruder.preferred_username!)).toBeNull();
      expect((await t.audit(undefined, "oauth_failure")).some((e) => (e.details as { reason?: string }).reason === "oauth_account_not_linked")).toBe(true);
    });

    it("the return target: ?return=/some/page → 303 there; an off-site target → /account; remember=1 gives a persistent session cookie", async () => {
      const carl = t.add(idpUser("carl"));
      const there = await t.signIn(carl, { returnTo: "/some/page?x=1" });
      expect(there.res.statusCode).toBe(303);
      expect(there.res.headers.location).toBe("/some/page?x=1");
      expect(there.res.cookies.find((c) => c.name === "gatehouse_session")?.maxAge).toBeUndefined();

      const offsite = await t.signIn(carl, { returnTo: "https://evil.example/steal" });
      expect(offsite.res.statusCode).toBe(303);
      expect(offsite.res.headers.location).toBe("/account");

      const s = get();
      const started = await s.h.request({ method: "GET", url: "/api/auth/oauth/test-idp/start?return=%2Fdocs&remember=1" });
      expect(started.statusCode).toBe(303);
      const browser = mergeCookies(undefined, started);
      const back = await s.authorize(new URL(String(started.headers.location)), carl.login, carl.password);
      const done = await s.callback(back, browser);
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe("/docs");
      const session = done.cookies.find((c) => c.name === "gatehouse_session");
      expect(session?.httpOnly).toBe(true);
      expect(session?.maxAge).toBe(30 * 86_400);
    });

    it("a blocked account: 403 account_blocked page, no session, audit oauth_failure (blocked)", async () => {
      const dora = t.add(idpUser("dora"));
      const { id } = await t.signedIn(dora);
      await t.setUser(id, { blocked: true });
      const { res } = await t.signIn(dora);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("account_blocked");
      expect(sessionCookieFrom(res)).toBeNull();
      expect((await t.audit(id, "oauth_failure"))[0]?.details).toMatchObject({ provider: "test-idp", reason: "blocked" });
    });
  });

  describe(`provider sign-in: linking and unlinking from the account (${backend})`, () => {
    const get = useStack(backend);
    const t = helpers(get);

    it("link: 403 reauth_required without a recent re-authentication; after it the callback links (303 /account?notice=provider_linked) in the same session; listed; the next provider sign-in opens that account", async () => {
      const s = get();
      const { b, local } = await passwordBrowser(s);
      const ext = t.add(idpUser("linker"));

      s.h.clock.advance(11 * MIN);
      const stale = await startLink(b);
      expect(stale.statusCode).toBe(403);
      expect(errorOf(stale)).toBe("reauth_required");
      expect(stale.cookies.find((c) => c.name.endsWith("gatehouse_oauth"))).toBeUndefined();

      await reauth(s, b);
      // The form's token is required: a forged post starts nothing.
      await b.get("/account");
      const forged = await b.post("/api/auth/oauth/test-idp/start", { intent: "link", _csrf: "forged" });
      expect(forged.statusCode).toBe(403);
      expect(errorOf(forged)).toBe("csrf");
      const started = await startLink(b);
      expect(started.statusCode, started.body.slice(0, 300)).toBe(303);
      const session = b.session;
      const back = await s.authorize(new URL(String(started.headers.location)), ext.login, ext.password);
      const done = await b.get(back);
      expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
      expect(done.headers.location).toBe("/account?notice=provider_linked");
      expect(b.session).toBe(session);
      expect((await t.me(b.cookie)).json().user.id).toBe(local.id);
      const ids = await t.identities(b.cookie);
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatchObject({ provider: "test-idp", providerName: "Test IdP", email: ext.email, lastUsedAt: null });
      const linked = (await t.audit(local.id, "oauth_link"))[0];
      expect(linked?.details).toMatchObject({ provider: "test-idp" });
      expect((linked?.details as { auto?: boolean }).auto).toBeUndefined();

      const viaProvider = await t.signedIn(ext);
      expect(viaProvider.id).toBe(local.id);
      expect(await t.userNamed(ext.preferred_username!)).toBeNull();
    });

    it("attack: linking an identity already linked to another account → 409 identity_in_use; a second identity of the same provider → 409 provider_already_linked (at the start, and at a callback that raced it)", async () => {
      const s = get();
      const owned = t.add(idpUser("owned"));
      const owner = await t.signedIn(owned);

      const { b, local } = await passwordBrowser(s);
      const started = await startLink(b);
      expect(started.statusCode).toBe(303);
      const back = await s.authorize(new URL(String(started.headers.location)), owned.login, owned.password);
      const taken = await b.get(back);
      expect(taken.statusCode).toBe(409);
      expect(errorOf(taken)).toBe("identity_in_use");
      expect(await t.identities(b.cookie)).toEqual([]);
      expect(await t.identities(owner.cookie)).toHaveLength(1);
      expect((await t.audit(local.id, "oauth_failure"))[0]?.details).toMatchObject({ reason: "identity_taken" });

      // Two link round trips started before either ends: the second callback finds the provider already linked.
      const first = t.add(idpUser("firstid"));
      const second = t.add(idpUser("secondid"));
      const a = await startLink(b);
      const oauthA = b.jar.get("gatehouse_oauth")!;
      const c = await startLink(b);
      const oauthC = b.jar.get("gatehouse_oauth")!;
      expect(a.statusCode).toBe(303);
      expect(c.statusCode).toBe(303);
      const backA = await s.authorize(new URL(String(a.headers.location)), first.login, first.password);
      const backC = await s.authorize(new URL(String(c.headers.location)), second.login, second.password);
      b.jar.set("gatehouse_oauth", oauthA);
      expect((await b.get(backA)).headers.location).toBe("/account?notice=provider_linked");
      b.jar.set("gatehouse_oauth", oauthC);
      const raced = await b.get(backC);
      expect(raced.statusCode).toBe(409);
      expect(errorOf(raced)).toBe("provider_already_linked");
      // And once linked, the start refuses a second one.
      const again = await startLink(b);
      expect(again.statusCode).toBe(409);
      expect(errorOf(again)).toBe("provider_already_linked");
      const ids = await t.identities(b.cookie);
      expect(ids.map((i) => i.email)).toEqual([first.email]);
    });

    it("unlink: 403 reauth_required without a recent re-authentication, 404 for another user's identity, 204 for an account with a password (audit oauth_unlink)", async () => {
      const s = get();
      const { b, local } = await passwordBrowser(s);
      const ext = t.add(idpUser("unlinker"));
      const started = await startLink(b);
      const done = await b.get(await s.authorize(new URL(String(started.headers.location)), ext.login, ext.password));
      expect(done.headers.location).toBe("/account?notice=provider_linked");
      const [identity] = await t.identities(b.cookie);

      const stranger = await t.signedIn(t.add(idpUser("stranger")));
      const [theirs] = await t.identities(stranger.cookie);
      const del = (id: string) => s.h.request({ method: "DELETE", url: `/api/account/identities/${id}`, cookie: b.cookie });

      s.h.clock.advance(11 * MIN);
      const stale = await del(identity!.id);
      expect(stale.statusCode).toBe(403);
      expect(stale.json().code).toBe("reauth_required");
      await reauth(s, b);
      const notMine = await del(theirs!.id);
      expect(notMine.statusCode).toBe(404);
      expect(await t.identities(stranger.cookie)).toHaveLength(1);

      const ok = await del(identity!.id);
      expect(ok.statusCode).toBe(204);
      expect(await t.identities(b.cookie)).toEqual([]);
      expect((await t.audit(local.id, "oauth_unlink"))[0]?.details).toMatchObject({ provider: "test-idp" });
      expect((await del(identity!.id)).statusCode).toBe(404);
    });

    it("unlink: 409 last_sign_in_method for an account the provider created (no password, no passkey); a read:account token lists identities but cannot delete one (403)", async () => {
      const s = get();
      const made = await t.signedIn(t.add(idpUser("onlyfed")));
      const [identity] = await t.identities(made.cookie);
      const last = await s.h.request({ method: "DELETE", url: `/api/account/identities/${identity!.id}`, cookie: made.cookie });
      expect(last.statusCode).toBe(409);
      expect(last.json().code).toBe("last_sign_in_method");
      expect(await t.identities(made.cookie)).toHaveLength(1);

      const created = await s.h.request({ method: "POST", url: "/api/account/tokens", cookie: made.cookie, json: { name: "reader", scopes: ["read:account"] } });
      expect(created.statusCode, created.body).toBe(201);
      const bearer = { authorization: `Bearer ${created.json().secret as string}`, origin: null };
      const listed = await s.h.request({ method: "GET", url: "/api/account/identities", headers: bearer });
      expect(listed.statusCode).toBe(200);
      expect(listed.json().identities.map((i: { id: string }) => i.id)).toEqual([identity!.id]);
      const refused = await s.h.request({ method: "DELETE", url: `/api/account/identities/${identity!.id}`, headers: bearer });
      expect(refused.statusCode).toBe(403);
      expect(await t.identities(made.cookie)).toHaveLength(1);
    });

    it("second_factor admins (the default): an admin with an authenticator app gets the second-factor form and a pending cookie, no session; the code gives aal2, amr [fed, otp]; a plain user with one signs in at once", async () => {
      const s = get();
      const adminIdp = t.add(idpUser("fedadmin"));
      const admin = await t.signedIn(adminIdp);
      const secret = await t.enrolTotp(admin.cookie);
      await t.setUser(admin.id, { role: "admin" });

      const { res } = await t.signIn(adminIdp);
      // One redirect to the form, so no history entry keeps the callback's code.
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/login\/second-factor/);
      const pending = pendingCookieFrom(res);
      expect(pending).not.toBeNull();
      const form = await s.h.request({ method: "GET", url: String(res.headers.location), cookie: pending! });
      expect(form.statusCode).toBe(200);
      expect(form.headers["content-type"]).toContain("text/html");
      expect(form.body).toContain('action="/login/second-factor"');
      expect(sessionCookieFrom(res)).toBeNull();
      const verify = await s.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending!, json: { method: "totp", code: await t.totpCode(secret) } });
      expect(verify.statusCode, verify.body).toBe(200);
      const session = sessionCookieFrom(verify)!;
      expect((await t.me(session)).json().user).toMatchObject({ id: admin.id, role: "admin" });
      expect(await t.currentSession(session)).toMatchObject({ aal: "aal2", amr: ["fed", "otp"] });

      const plainIdp = t.add(idpUser("fedplain"));
      const plain = await t.signedIn(plainIdp);
      await t.enrolTotp(plain.cookie);
      const direct = await t.signedIn(plainIdp);
      expect(await t.currentSession(direct.cookie)).toMatchObject({ aal: "aal1", amr: ["fed"] });
    });
  });

  describe(`provider sign-in: REGISTRATION closed and invitations (${backend})`, () => {
    const get = useStack(backend, { env: { REGISTRATION: "" } });
    const t = helpers(get);
    const invitationOf = async (email: string) =>
      (await get().h.gh.database.db.selectFrom("invitations").selectAll().where("email_normalized", "=", email.toLowerCase()).execute())[0];

    it("closed without an invitation: 403 oauth_account_not_linked page, no account", async () => {
      const nobody = t.add(idpUser("closed"));
      const { res } = await t.signIn(nobody);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("oauth_account_not_linked");
      expect(sessionCookieFrom(res)).toBeNull();
      expect(await t.userNamed(nobody.preferred_username!)).toBeNull();
      expect(await t.userWithEmail(nobody.email!)).toBeNull();
    });

    it("a pending invitation to the provider's verified address creates the account with the invitation's role and uses it", async () => {
      const invited = t.add(idpUser("invited"));
      await get().h.gh.invitations.create(OPERATOR, { email: invited.email!, role: "admin" });
      const { cookie, id } = await t.signedIn(invited);
      expect((await t.me(cookie)).json().user).toMatchObject({ username: invited.preferred_username, email: invited.email, emailVerified: true, role: "admin" });
      const row = await invitationOf(invited.email!);
      expect(row?.used_at).not.toBeNull();
      expect((await t.audit(id, "register"))[0]?.details).toMatchObject({ via: "oauth", provider: "test-idp", role: "admin" });
      // Registration closed never stops an account that exists.
      expect((await t.signedIn(invited)).id).toBe(id);
    });

    it("attack: an invitation claimed through a provider that does not verify the address — email_verified false is refused and the invitation stays pending", async () => {
      const unverified = t.add(idpUser("unverinv", { email_verified: false }));
      await get().h.gh.invitations.create(OPERATOR, { email: unverified.email!, role: "user" });
      const { res } = await t.signIn(unverified);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("oauth_account_not_linked");
      expect(await t.userNamed(unverified.preferred_username!)).toBeNull();
      expect((await invitationOf(unverified.email!))?.used_at).toBeNull();
    });
  });

  describe(`provider sign-in: auto-link on (${backend})`, () => {
    const get = useStack(backend, { provider: { autoLink: true } });
    const t = helpers(get);

    it("auto-link on + verified address: linked to the local account with that address (audit oauth_link auto) and signed in as it", async () => {
      const local = await get().h.account();
      const ext = t.add(idpUser("autolink", { email: `${local.name}@example.test` }));
      const { cookie, id } = await t.signedIn(ext);
      expect(id).toBe(local.id);
      expect(await t.identities(cookie)).toHaveLength(1);
      expect((await t.audit(local.id, "oauth_link"))[0]?.details).toMatchObject({ provider: "test-idp", auto: true });
      expect((await t.audit(local.id, "oauth_login"))[0]?.details).toMatchObject({ account: "auto_linked" });
      expect(await t.userNamed(ext.preferred_username!)).toBeNull();
    });

    it("attack: account takeover through a provider that does not verify addresses — auto-link on + unverified address is refused, nothing linked or created", async () => {
      const local = await get().h.account();
      const ext = t.add(idpUser("takeover", { email: `${local.name}@example.test`, email_verified: false }));
      const { res } = await t.signIn(ext);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("oauth_account_not_linked");
      expect(sessionCookieFrom(res)).toBeNull();
      expect(await t.identities(local.cookie)).toEqual([]);
      expect(await t.audit(local.id, "oauth_link")).toEqual([]);
      // Nor a second account with that address (registration is open here).
      expect(await t.userNamed(ext.preferred_username!)).toBeNull();
    });
  });

  describe(`provider sign-in: REGISTRATION=invite (${backend})`, () => {
    const get = useStack(backend, { env: { REGISTRATION: "invite" } });
    const t = helpers(get);

    it("without an invitation: 403 oauth_account_not_linked, no account; with one: created", async () => {
      const nobody = t.add(idpUser("noinv"));
      const { res } = await t.signIn(nobody);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("oauth_account_not_linked");
      expect(await t.userNamed(nobody.preferred_username!)).toBeNull();

      await get().h.gh.invitations.create(OPERATOR, { email: nobody.email!, role: "user" });
      const { cookie } = await t.signedIn(nobody);
      expect((await t.me(cookie)).json().user).toMatchObject({ username: nobody.preferred_username, role: "user" });
    });
  });

  describe(`provider sign-in: REGISTRATION_EMAIL_DOMAINS (${backend})`, () => {
    const get = useStack(backend, { env: { REGISTRATION_EMAIL_DOMAINS: "example.com" } });
    const t = helpers(get);

    it("an address outside the domains (or an unverified one): 403 email_domain_not_allowed, no account; inside: created", async () => {
      const outside = t.add(idpUser("outside", { email: `outside${seq}@other.org` }));
      const refused = await t.signIn(outside);
      expect(refused.res.statusCode).toBe(403);
      expect(errorOf(refused.res)).toBe("email_domain_not_allowed");
      expect(await t.userNamed(outside.preferred_username!)).toBeNull();

      const unverified = t.add(idpUser("unverdom", { email_verified: false }));
      const alsoRefused = await t.signIn(unverified);
      expect(alsoRefused.res.statusCode).toBe(403);
      expect(errorOf(alsoRefused.res)).toBe("email_domain_not_allowed");

      await t.signedIn(t.add(idpUser("inside")));
    });
  });

  describe(`provider sign-in: the provider's email_domains (${backend})`, () => {
    const get = useStack(backend, { provider: { emailDomains: ["example.com"] } });
    const t = helpers(get);

    it("an address outside the provider's domains: 403 email_domain_not_allowed, no account; inside: created", async () => {
      const outside = t.add(idpUser("pdom", { email: `pdom${seq}@other.org` }));
      const { res } = await t.signIn(outside);
      expect(res.statusCode).toBe(403);
      expect(errorOf(res)).toBe("email_domain_not_allowed");
      expect(await t.userNamed(outside.preferred_username!)).toBeNull();
      await t.signedIn(t.add(idpUser("pdomin")));
    });
  });

  describe(`provider sign-in: role mapping from groups (${backend})`, () => {
    const get = useStack(backend, { provider: { scopes: ["openid", "email", "profile", "groups"], roles: { claim: "groups", map: { admins: "admin" } } } });
    const t = helpers(get);

    it("a member of admins becomes admin; removed from the group, back to user at the next sign-in and the earlier sessions revoked (audit role_change)", async () => {
      const ext = t.add(idpUser("grouped", { groups: ["admins", "staff"] }));
      const first = await t.signedIn(ext);
      expect((await t.me(first.cookie)).json().user.role).toBe("admin");

      t.add({ ...ext, groups: ["staff"] });
      const second = await t.signedIn(ext);
      expect(second.id).toBe(first.id);
      expect((await t.me(second.cookie)).json().user.role).toBe("user");
      expect((await t.me(first.cookie)).statusCode).toBe(401);
      expect((await t.audit(first.id, "role_change"))[0]?.details).toMatchObject({ from: "admin", to: "user", via: "oauth", provider: "test-idp" });

      // Back in the group: admin again, and the user-level session ends.
      t.add({ ...ext, groups: ["admins"] });
      const third = await t.signedIn(ext);
      expect((await t.me(third.cookie)).json().user.role).toBe("admin");
      expect((await t.me(second.cookie)).statusCode).toBe(401);
    });

    it("a user with an authenticator app promoted by the mapping is asked for it at that sign-in (second_factor admins)", async () => {
      const s = get();
      const ext = t.add(idpUser("promoted", { groups: [] }));
      const made = await t.signedIn(ext);
      const secret = await t.enrolTotp(made.cookie);
      t.add({ ...ext, groups: ["admins"] });
      const { res } = await t.signIn(ext);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/login\/second-factor/);
      expect(sessionCookieFrom(res)).toBeNull();
      const pending = pendingCookieFrom(res);
      expect(pending).not.toBeNull();
      expect((await t.me(made.cookie)).statusCode).toBe(401);
      const verify = await s.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending!, json: { method: "totp", code: await t.totpCode(secret) } });
      expect(verify.statusCode, verify.body).toBe(200);
      const session = sessionCookieFrom(verify)!;
      expect((await t.me(session)).json().user.role).toBe("admin");
      expect(await t.currentSession(session)).toMatchObject({ aal: "aal2", amr: ["fed", "otp"] });
    });

    it("a superadmin is never changed by the mapping", async () => {
      const ext = t.add(idpUser("super", { groups: [] }));
      const { id } = await t.signedIn(ext);
      await t.setUser(id, { role: "superadmin" });
      const out = await t.signedIn(ext);
      expect((await t.me(out.cookie)).json().user.role).toBe("superadmin");
      t.add({ ...ext, groups: ["admins"] });
      const again = await t.signedIn(ext);
      expect((await t.me(again.cookie)).json().user.role).toBe("superadmin");
      expect((await t.me(out.cookie)).statusCode).toBe(200);
      expect(await t.audit(id, "role_change")).toEqual([]);
    });
  });

  describe(`provider sign-in: second_factor never (${backend})`, () => {
    const get = useStack(backend, { provider: { secondFactor: "never" } });
    const t = helpers(get);

    it("an admin with an authenticator app is signed in at once (aal1, amr fed)", async () => {
      const ext = t.add(idpUser("never"));
      const made = await t.signedIn(ext);
      await t.enrolTotp(made.cookie);
      await t.setUser(made.id, { role: "admin" });
      const { res, cookie } = await t.signIn(ext);
      expect(res.statusCode).toBe(303);
      expect(pendingCookieFrom(res)).toBeNull();
      expect((await t.me(cookie)).json().user.role).toBe("admin");
      expect(await t.currentSession(cookie)).toMatchObject({ aal: "aal1", amr: ["fed"] });
    });
  });

  describe(`provider sign-in: second_factor always (${backend})`, () => {
    const get = useStack(backend, { provider: { secondFactor: "always" } });
    const t = helpers(get);

    it("a plain user with an authenticator app is asked for it; one without is signed in at once", async () => {
      const s = get();
      const ext = t.add(idpUser("always"));
      const made = await t.signedIn(ext);
      const secret = await t.enrolTotp(made.cookie);
      const { res } = await t.signIn(ext);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toMatch(/^\/login\/second-factor/);
      const pending = pendingCookieFrom(res);
      expect(pending).not.toBeNull();
      expect(sessionCookieFrom(res)).toBeNull();
      const verify = await s.h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending!, json: { method: "totp", code: await t.totpCode(secret) } });
      expect(verify.statusCode, verify.body).toBe(200);
      expect(await t.currentSession(sessionCookieFrom(verify)!)).toMatchObject({ aal: "aal2", amr: ["fed", "otp"] });

      await t.signedIn(t.add(idpUser("alwaysnone")));
    });
  });

  describe(`provider sign-in: a disabled provider (${backend})`, () => {
    const get = useStack(backend, { provider: { enabled: false } });

    it("404 at start and at the callback", async () => {
      const s = get();
      const start = await s.h.request({ method: "GET", url: "/api/auth/oauth/test-idp/start" });
      expect(start.statusCode).toBe(404);
      expect(start.cookies.find((c) => c.name.endsWith("gatehouse_oauth"))).toBeUndefined();
      const callback = await s.h.request({ method: "GET", url: "/api/auth/oauth/test-idp/callback?code=abc&state=def" });
      expect(callback.statusCode).toBe(404);
    });
  });

  describe(`provider sign-in: PASSWORD_LOGIN=off (${backend})`, () => {
    const get = useStack(backend, { env: { PASSWORD_LOGIN: "off" } });
    const t = helpers(get);

    it("POST /api/auth/login answers 403 password_login_disabled while provider sign-in works; a stored password does not count as a way to sign in when unlinking", async () => {
      const s = get();
      const ext = t.add(idpUser("nopw"));
      await t.signedIn(ext);
      const login = await s.h.request({ method: "POST", url: "/api/auth/login", json: { username: ext.preferred_username, password: GOOD_PASSWORD } });
      expect(login.statusCode).toBe(403);
      expect(login.json().code).toBe("password_login_disabled");
      const again = await t.signedIn(ext);
      expect(sessionCookieFrom(again.res)).not.toBeNull();

      // A password that signs nobody in is no way to sign in: unlinking the only identity is refused.
      await s.h.gh.stores.users.updatePasswordHash(again.id, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", s.h.clock.now());
      s.h.gh.sessions.forgetUser(again.id);
      const [identity] = await t.identities(again.cookie);
      const unlink = await s.h.request({ method: "DELETE", url: `/api/account/identities/${identity!.id}`, cookie: again.cookie });
      expect(unlink.statusCode).toBe(409);
      expect(unlink.json().code).toBe("last_sign_in_method");
    });
  });
}
