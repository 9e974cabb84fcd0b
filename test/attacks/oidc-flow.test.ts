import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderSettings } from "../../src/core/oauth/identity-provider.js";
import { ME } from "../helpers/attacks.js";
import { backendNames, type Backend } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { startHostileIdp, type HostileIdp } from "../helpers/oauth/hostile-idp.js";
import { mergeCookies, startProviderStack, type ProviderStack } from "../helpers/oauth/provider-stack.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";
import { startTestIdp, type TestIdp, type TestIdpUser } from "../helpers/oauth/test-idp.js";
import { csrfOf, formBody } from "../helpers/web-client.js";

/**
 * Attacks on the provider sign-in flow (OIDC-02, -04, -06, REDIR-01, login
 * CSRF, code and nonce replay, link hijack, unverified-email takeover), end to
 * end: Gatehouse (the harness, on each backend) against the real local
 * OpenID Connect provider, and the hostile IdP where the IdP itself must lie.
 * The protocol-level checks of the client alone are in oidc-id-token.test.ts.
 */

const idpUser = (name: string, extra: Partial<TestIdpUser> = {}): TestIdpUser => ({
  sub: `${name}-sub`,
  login: name,
  password: `pw-${name}`,
  email: `${name}@idp.test`,
  email_verified: true,
  preferred_username: name,
  ...extra,
});

const ALICE = idpUser("alice");
const MALLORY = idpUser("mallory");
const LINKER = idpUser("linker");
const LEAKY = idpUser("leaky");
const REDIRECTED = idpUser("redirected");
const REAUTHER = idpUser("reauther");

/** The error code of a Gatehouse HTML error page (`data-error`), or null. */
function pageError(res: LightMyRequestResponse): string | null {
  return /data-error="([^"]+)"/.exec(res.body)?.[1] ?? null;
}

async function sessionRows(h: Harness): Promise<number> {
  const row = await h.gh.database.db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function identityRows(h: Harness, userId?: string): Promise<number> {
  let q = h.gh.database.db.selectFrom("external_identities").select((eb) => eb.fn.countAll().as("n"));
  if (userId !== undefined) q = q.where("user_id", "=", userId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** The refusal of a callback: an HTML page with `status` and `code`, no session cookie, no session row. */
async function expectRefused(h: Harness, res: LightMyRequestResponse, status: number, code: string, rowsBefore: number): Promise<void> {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(status);
  expect(String(res.headers["content-type"])).toMatch(/^text\/html/);
  expect(pageError(res)).toBe(code);
  expect(sessionCookieFrom(res)).toBeNull();
  expect(await sessionRows(h)).toBe(rowsBefore);
}

/** The audit event of `type` the request of `res` recorded (matched by its request id; the manual clock gives many events one time). */
async function auditOf(h: Harness, res: LightMyRequestResponse, type: string) {
  const requestId = String(res.headers["x-request-id"]);
  const events = (await h.gh.stores.audit.list({ type, limit: 500 })).filter((e) => e.requestId === requestId);
  expect(events, `${type} of request ${requestId}`).toHaveLength(1);
  return events[0]!;
}

async function meStatusOf(h: Harness, cookie: string): Promise<number> {
  return (await h.request({ method: "GET", url: ME, ...(cookie ? { cookie } : {}) })).statusCode;
}

/** One browser's started round trip: its cookies after the start, and what Gatehouse sent to the IdP. */
interface Started {
  res: LightMyRequestResponse;
  browser: string;
  location: URL;
  state: string;
  nonce: string;
}

/** `GET /api/auth/oauth/<provider>/start` (`query` given raw, as it appears in the URL) in a browser holding `cookie`. */
async function begin(h: Harness, provider: string, options: { query?: string; cookie?: string } = {}): Promise<Started> {
  const res = await h.request({ method: "GET", url: `/api/auth/oauth/${provider}/start${options.query ?? ""}`, ...(options.cookie ? { cookie: options.cookie } : {}) });
  expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
  const location = new URL(String(res.headers.location));
  return { res, browser: mergeCookies(options.cookie, res), location, state: location.searchParams.get("state") ?? "", nonce: location.searchParams.get("nonce") ?? "" };
}

/** The IdP's redirect back (after its login form) as the path + query Gatehouse receives. */
async function atIdp(idp: TestIdp, started: Started, user: TestIdpUser): Promise<string> {
  const back = await idp.authorize(started.location, user.login, user.password);
  return `${back.pathname}${back.search}`;
}

const callback = (h: Harness, path: string, cookie: string): Promise<LightMyRequestResponse> => h.request({ method: "GET", url: path, ...(cookie ? { cookie } : {}) });

/** A path + query with some parameters replaced (or removed with null). */
function edited(path: string, change: Record<string, string | null>): string {
  const url = new URL(path, "http://x");
  for (const [k, v] of Object.entries(change)) {
    if (v === null) url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  return `${url.pathname}${url.search}`;
}

const s256 = (verifier: string): string => createHash("sha256").update(verifier).digest("base64url");

describe.each(backendNames())("attack: provider sign-in flow (%s)", (backend: Backend["name"]) => {
  let s: ProviderStack;
  let h: Harness;
  let idp: TestIdp;
  const P = "test-idp";

  beforeAll(async () => {
    s = await startProviderStack(backend, { users: [ALICE, MALLORY, LINKER, LEAKY, REDIRECTED, REAUTHER] });
    ({ h, idp } = s);
  });
  afterAll(async () => s?.close());

  describe("OIDC-02: state bound to one browser, single use, 10 minutes", () => {
    const seen: string[] = [];

    it("attack: a callback with no state → 400 oauth_state_invalid, no session", async () => {
      const started = await begin(h, P);
      const path = await atIdp(idp, started, ALICE);
      seen.push(started.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      const rows = await sessionRows(h);
      const res = await callback(h, edited(path, { state: null }), started.browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: P, reason: "state_missing" });
      expect(await meStatusOf(h, mergeCookies(started.browser, res))).toBe(401);
    });

    it("attack: a state from another browser: the transaction cookie missing → 400 oauth_state_invalid", async () => {
      const started = await begin(h, P);
      const path = await atIdp(idp, started, ALICE);
      seen.push(started.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      const rows = await sessionRows(h);
      const res = await callback(h, path, "");
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await meStatusOf(h, mergeCookies("", res))).toBe(401);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: P, reason: "browser_mismatch" });
    });

    it("attack: a state from another browser: that browser's own transaction cookie (of its own round trip) → 400 oauth_state_invalid", async () => {
      const attacker = await begin(h, P);
      const victim = await begin(h, P);
      const path = await atIdp(idp, attacker, ALICE);
      seen.push(attacker.state, victim.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      const rows = await sessionRows(h);
      const res = await callback(h, path, victim.browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await meStatusOf(h, mergeCookies(victim.browser, res))).toBe(401);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: P, reason: "browser_mismatch" });
    });

    it("attack: a reused state (the same callback URL twice, cookie kept) → signed in once, 400 oauth_state_invalid the second time", async () => {
      const started = await begin(h, P);
      const path = await atIdp(idp, started, ALICE);
      seen.push(started.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      const first = await callback(h, path, started.browser);
      expect(first.statusCode, first.body.slice(0, 300)).toBe(303);
      expect(sessionCookieFrom(first)).not.toBeNull();
      const rows = await sessionRows(h);
      // The attacker replays the URL with the transaction cookie it saw (the callback had already expired it).
      const again = await callback(h, path, started.browser);
      await expectRefused(h, again, 400, "oauth_state_invalid", rows);
      expect((await auditOf(h, again, "oauth_failure")).details).toEqual({ provider: P, reason: "state_unknown_used_or_expired" });
    });

    it("attack: a raced replay (the same callback URL twice at once) → exactly one sign-in, the other 400 oauth_state_invalid", async () => {
      const started = await begin(h, P);
      const path = await atIdp(idp, started, ALICE);
      seen.push(started.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      const rows = await sessionRows(h);
      const answers = await Promise.all([callback(h, path, started.browser), callback(h, path, started.browser)]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([303, 400]);
      expect(answers.filter((r) => sessionCookieFrom(r) !== null)).toHaveLength(1);
      expect(pageError(answers.find((r) => r.statusCode === 400)!)).toBe("oauth_state_invalid");
      expect(await sessionRows(h)).toBe(rows + 1);
    });

    it("attack: an expired round trip (the IdP answers after more than 10 minutes) → 400 oauth_state_invalid", async () => {
      const started = await begin(h, P);
      const path = await atIdp(idp, started, ALICE);
      seen.push(started.state, new URL(path, "http://x").searchParams.get("code") ?? "");
      h.clock.advance(10 * 60_000 + 1_000);
      const rows = await sessionRows(h);
      const res = await callback(h, path, started.browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await meStatusOf(h, mergeCookies(started.browser, res))).toBe(401);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: P, reason: "state_unknown_used_or_expired" });
    });

    it("each refusal is audited as oauth_failure with a reason, never the state or the code", async () => {
      const failures = await h.gh.stores.audit.list({ type: "oauth_failure", limit: 50 });
      const reasons = failures.map((e) => e.details.reason);
      expect(reasons).toEqual(expect.arrayContaining(["state_missing", "browser_mismatch", "state_unknown_used_or_expired"]));
      for (const e of failures) {
        expect(e.details.provider).toBe(P);
        expect(typeof e.details.reason).toBe("string");
      }
      const text = JSON.stringify(failures);
      for (const secret of seen.filter((x) => x.length > 0)) expect(text).not.toContain(secret);
      expect(h.logs.text()).not.toMatch(new RegExp(seen.filter((x) => x.length > 0).join("|")));
    });
  });

  describe("login CSRF (OIDC-02): the attacker's callback URL opened by the victim", () => {
    /** The attacker completes the IdP login for their own IdP account and keeps the callback URL. */
    async function attackerUrl(): Promise<string> {
      const attacker = await begin(h, P);
      return atIdp(idp, attacker, MALLORY);
    }

    it("attack: the victim without a session opens it → 400 oauth_state_invalid, not signed in as the attacker", async () => {
      const path = await attackerUrl();
      const rows = await sessionRows(h);
      const res = await callback(h, path, "");
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await meStatusOf(h, mergeCookies("", res))).toBe(401);
    });

    it("attack: the victim signed in to their own account opens it → refused, and the victim's session still belongs to the victim", async () => {
      const victim = await h.account("user", "csrfvictim");
      const path = await attackerUrl();
      const rows = await sessionRows(h);
      const res = await callback(h, path, victim.cookie);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      const browser = mergeCookies(victim.cookie, res);
      const me = await h.request({ method: "GET", url: ME, cookie: browser });
      expect(me.statusCode).toBe(200);
      expect(me.json().user.id).toBe(victim.id);
      expect(await identityRows(h, victim.id)).toBe(0);
    });

    it("attack: the victim with a round trip of its own in flight (its own transaction cookie) opens it → refused", async () => {
      const victim = await h.account("user", "csrfvictim2");
      const own = await begin(h, P, { cookie: victim.cookie });
      const path = await attackerUrl();
      const rows = await sessionRows(h);
      const res = await callback(h, path, own.browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      const me = await h.request({ method: "GET", url: ME, cookie: mergeCookies(own.browser, res) });
      expect(me.json().user.id).toBe(victim.id);
    });
  });

  describe("code injection and replay, PKCE (OIDC-01)", () => {
    it("attack: a stolen unused code injected into another browser's round trip (code1 with state2) → 400 oauth_failed (PKCE verifier mismatch)", async () => {
      const first = await begin(h, P);
      const path1 = await atIdp(idp, first, ALICE);
      const code1 = new URL(path1, "http://x").searchParams.get("code")!;
      const second = await begin(h, P);
      const rows = await sessionRows(h);
      const res = await callback(h, edited(path1, { state: second.state, code: code1 }), second.browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect((await auditOf(h, res, "oauth_failure")).details.reason).toBe("invalid_response");
      expect(await meStatusOf(h, mergeCookies(second.browser, res))).toBe(401);
      // The token request carried the second round trip's verifier, which does not match code1's challenge.
      const token = idp.requests.token.at(-1)!;
      expect(token.get("code")).toBe(code1);
      expect(s256(token.get("code_verifier") ?? "")).toBe(second.location.searchParams.get("code_challenge"));
      expect(s256(token.get("code_verifier") ?? "")).not.toBe(first.location.searchParams.get("code_challenge"));
    });

    it("attack: a code already redeemed replayed into a new round trip → 400 oauth_failed", async () => {
      const first = await begin(h, P);
      const path1 = await atIdp(idp, first, ALICE);
      const ok = await callback(h, path1, first.browser);
      expect(ok.statusCode).toBe(303);
      const third = await begin(h, P);
      const rows = await sessionRows(h);
      const res = await callback(h, edited(path1, { state: third.state }), third.browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect((await auditOf(h, res, "oauth_failure")).details.reason).toBe("invalid_response");
    });

    it("attack: PKCE downgrade: the authorization request uses S256 with a 43-char challenge (never plain), the token request a 43-char verifier hashing to it", async () => {
      const before = idp.requests.token.length;
      const started = await begin(h, P);
      const q = started.location.searchParams;
      expect(q.get("code_challenge_method")).toBe("S256");
      expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(started.location.search).not.toMatch(/plain/i);
      const path = await atIdp(idp, started, ALICE);
      const received = idp.requests.authorization.filter((r) => r.get("state") === started.state);
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) {
        expect(r.get("code_challenge_method")).toBe("S256");
        expect(r.get("code_challenge")).toBe(q.get("code_challenge"));
      }
      const res = await callback(h, path, started.browser);
      expect(res.statusCode).toBe(303);
      const token = idp.requests.token.slice(before);
      expect(token).toHaveLength(1);
      const verifier = token[0]!.get("code_verifier") ?? "";
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(s256(verifier)).toBe(q.get("code_challenge"));
    });
  });

  describe("nonce", () => {
    it("attack: nonce prediction or reuse: every authorization request carries a fresh nonce (≥ 43 chars) and state", async () => {
      const round = await Promise.all(Array.from({ length: 6 }, () => begin(h, P)));
      const nonces = round.map((r) => r.nonce);
      const states = round.map((r) => r.state);
      for (const n of [...nonces, ...states]) expect(n.length).toBeGreaterThanOrEqual(43);
      expect(new Set(nonces).size).toBe(nonces.length);
      expect(new Set(states).size).toBe(states.length);
      expect(nonces.filter((n) => states.includes(n))).toEqual([]);
    });
  });

  describe("open redirect (REDIR-01) through start's return parameter", () => {
    // As they appear in the URL's query (decoded once by the server), and each also percent-encoded whole.
    const payloads = [
      "//evil.test",
      "/\\evil.test",
      "\\\\evil.test",
      "/%09/evil.test",
      "/%2F%2Fevil.test",
      "https://evil.test",
      "https:evil.test",
      "javascript:alert(1)",
      "data:text/html,x",
      "/%0d%0aSet-Cookie:x=y",
    ];
    const cases = payloads.flatMap((p) => [
      { payload: p, query: `?return=${p}`, how: "raw" },
      { payload: p, query: `?return=${encodeURIComponent(p)}`, how: "encoded" },
    ]);

    it.each(cases)("attack: return=$payload ($how) → after the sign-in the Location is same-origin, no header injected", async ({ query }) => {
      const started = await begin(h, P, { query });
      const path = await atIdp(idp, started, REDIRECTED);
      const res = await callback(h, path, started.browser);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      expect(sessionCookieFrom(res)).not.toBeNull();
      const location = String(res.headers.location);
      expect([...location].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f || c === "\\")).toBe(false);
      expect(location.startsWith("/") && !location.startsWith("//")).toBe(true);
      const origin = new URL(h.publicUrl).origin;
      expect(new URL(location, h.publicUrl).origin).toBe(origin);
      expect(location).toBe("/account");
      expect(JSON.stringify(res.headers)).not.toContain("x=y");
      expect(res.cookies.map((c) => c.name)).not.toContain("x");
    });
  });

  describe("OIDC-06: IdP tokens never leave Gatehouse", () => {
    it("attack: token leakage: no access token, ID token, code, PKCE verifier or client secret in any response (headers, bodies, cookies), audit row or log line of a full flow", async () => {
      const issuedBefore = idp.requests.issued.length;
      const logsBefore = h.logs.lines.length;
      const responses: LightMyRequestResponse[] = [];
      const started = await begin(h, P);
      responses.push(started.res);
      const path = await atIdp(idp, started, LEAKY);
      const code = new URL(path, "http://x").searchParams.get("code")!;
      const cb = await callback(h, path, started.browser);
      expect(cb.statusCode).toBe(303);
      responses.push(cb);
      const browser = mergeCookies(started.browser, cb);
      for (const url of [String(cb.headers.location), ME, "/api/account/identities", "/account", "/account/sessions"]) {
        responses.push(await h.request({ method: "GET", url, cookie: browser }));
      }
      expect(responses[2]!.statusCode).toBe(200);
      expect(responses[4]!.json().identities).toHaveLength(1);

      const issued = idp.requests.issued.slice(issuedBefore);
      expect(issued).toHaveLength(1);
      const { access_token: accessToken, id_token: idToken } = issued[0]!;
      const [, idPayload, idSignature] = idToken.split(".");
      const verifier = idp.requests.token.at(-1)!.get("code_verifier")!;
      const secrets: Record<string, string> = {
        "access token": accessToken,
        "ID token": idToken,
        "ID token payload": idPayload!,
        "ID token signature": idSignature!,
        "authorization code": code,
        "PKCE verifier": verifier,
        "client secret": s.provider.clientSecret,
      };
      const audit = JSON.stringify(await h.gh.stores.audit.list({ limit: 100 }));
      const logs = h.logs.lines.slice(logsBefore).join("\n");
      expect(logs.length).toBeGreaterThan(0);
      for (const [name, secret] of Object.entries(secrets)) {
        expect(secret.length, name).toBeGreaterThanOrEqual(16);
        responses.forEach((res, i) => {
          expect(JSON.stringify(res.headers), `${name} in the headers of response ${i}`).not.toContain(secret);
          expect(res.body, `${name} in the body of response ${i}`).not.toContain(secret);
        });
        expect(audit, `${name} in the audit log`).not.toContain(secret);
        expect(logs, `${name} in the logs`).not.toContain(secret);
        expect(h.logs.text(), `${name} in any log line`).not.toContain(secret);
      }
    });
  });

  describe("link hijack", () => {
    /** A's browser: a fresh password sign-in (recent re-authentication), the account page's CSRF token, POST start intent=link. */
    async function linkStart(name: string): Promise<{ user: { id: string; cookie: string }; started: Started }> {
      const user = await h.account("user", name);
      const page = await h.request({ method: "GET", url: "/account", cookie: user.cookie });
      expect(page.statusCode).toBe(200);
      const csrf = csrfOf(page.body);
      expect(csrf).not.toBeNull();
      const res = await h.request({
        method: "POST",
        url: `/api/auth/oauth/${P}/start`,
        cookie: user.cookie,
        payload: formBody({ _csrf: csrf!, intent: "link" }),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      const location = new URL(String(res.headers.location));
      return {
        user,
        started: { res, browser: mergeCookies(user.cookie, res), location, state: location.searchParams.get("state") ?? "", nonce: location.searchParams.get("nonce") ?? "" },
      };
    }

    it("a link round trip completed in the session that started it links the identity (the baseline)", async () => {
      const { user, started } = await linkStart("linkbase");
      const path = await atIdp(idp, started, LINKER);
      const res = await callback(h, path, started.browser);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      expect(String(res.headers.location)).toBe("/account?notice=provider_linked");
      expect(await identityRows(h, user.id)).toBe(1);
    });

    it("attack: a link round trip started by A, completed after B signed in in that browser → 400 oauth_state_invalid, nothing linked to A or B", async () => {
      const { user: a, started } = await linkStart("linkowner");
      const b = await h.account("user", "linkintruder");
      // B signs in in the same browser: B's session cookie replaces A's, the transaction cookie stays.
      const browser = mergeCookies(started.browser, (await h.request({ method: "POST", url: "/api/auth/login", json: { username: b.name, password: GOOD_PASSWORD } })));
      expect(browser).not.toContain(a.cookie);
      const path = await atIdp(idp, started, ALICE);
      const identities = await identityRows(h);
      const rows = await sessionRows(h);
      const res = await callback(h, path, browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await identityRows(h)).toBe(identities);
      expect(await identityRows(h, a.id)).toBe(0);
      expect(await identityRows(h, b.id)).toBe(0);
    });

    it("attack: a link round trip completed after A signed out (no session) → 400 oauth_state_invalid, nothing linked", async () => {
      const { user: a, started } = await linkStart("linkleaver");
      const browser = started.browser.split(/;\s*/).filter((c) => !c.includes("gatehouse_session")).join("; ");
      const path = await atIdp(idp, started, ALICE);
      const rows = await sessionRows(h);
      const res = await callback(h, path, browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(await identityRows(h, a.id)).toBe(0);
    });

    it("attack: cross-site POST start with intent=link without the page's CSRF token (or with another session's) → 403 csrf, no round trip", async () => {
      const a = await h.account("user", "linkcsrf");
      const other = await h.account("user", "linkcsrfother");
      const otherPage = await h.request({ method: "GET", url: "/account", cookie: other.cookie });
      const attempts: Record<string, string>[] = [{ intent: "link" }, { intent: "link", _csrf: "" }, { intent: "link", _csrf: csrfOf(otherPage.body)! }];
      for (const fields of attempts) {
        const res = await h.request({
          method: "POST",
          url: `/api/auth/oauth/${P}/start`,
          cookie: a.cookie,
          payload: formBody(fields),
          headers: { "content-type": "application/x-www-form-urlencoded" },
        });
        expect(res.statusCode, res.body.slice(0, 300)).toBe(403);
        expect(pageError(res)).toBe("csrf");
        expect(res.headers.location).toBeUndefined();
        expect(res.cookies.map((c) => c.name).filter((n) => n.endsWith("gatehouse_oauth"))).toEqual([]);
      }
    });
  });

  describe("re-authentication through the provider", () => {
    it("attack: re-authentication (sudo) completed with another IdP account than the linked one → 400 oauth_failed, session not rotated", async () => {
      const user = await h.account("user", "reauthowner");
      const page = await h.request({ method: "GET", url: "/account", cookie: user.cookie });
      const post = (intent: string, cookie: string, csrf: string) =>
        h.request({ method: "POST", url: `/api/auth/oauth/${P}/start`, cookie, payload: formBody({ _csrf: csrf, intent }), headers: { "content-type": "application/x-www-form-urlencoded" } });
      const link = await post("link", user.cookie, csrfOf(page.body)!);
      expect(link.statusCode).toBe(303);
      let browser = mergeCookies(user.cookie, link);
      const linked = await callback(h, await idp.authorize(String(link.headers.location), REAUTHER.login, REAUTHER.password).then((u) => `${u.pathname}${u.search}`), browser);
      expect(String(linked.headers.location)).toBe("/account?notice=provider_linked");
      browser = mergeCookies(browser, linked);

      const reauth = await post("reauth", browser, csrfOf(page.body)!);
      expect(reauth.statusCode, reauth.body.slice(0, 300)).toBe(303);
      const location = new URL(String(reauth.headers.location));
      expect(location.searchParams.get("prompt")).toBe("login");
      browser = mergeCookies(browser, reauth);
      const back = await idp.authorize(location, ALICE.login, ALICE.password);
      const rows = await sessionRows(h);
      const res = await callback(h, `${back.pathname}${back.search}`, browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: P, reason: "reauth_other_identity" });
      const me = await h.request({ method: "GET", url: ME, cookie: mergeCookies(browser, res) });
      expect(me.json().user.id).toBe(user.id);
    });

    it("attack: cross-site POST start with intent=reauth without the CSRF token → 403 csrf", async () => {
      const user = await h.account("user", "reauthcsrf");
      const res = await h.request({ method: "POST", url: `/api/auth/oauth/${P}/start`, cookie: user.cookie, payload: formBody({ intent: "reauth" }), headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(res.statusCode).toBe(403);
      expect(pageError(res)).toBe("csrf");
    });
  });

  describe("account takeover under open registration", () => {
    it("attack: an IdP account asserting a local account's email unverified (registration open) → 403 oauth_account_not_linked, no second account with that email", async () => {
      const victim = await h.account("user", "openvictim");
      const impostor = idpUser("openimpostor", { email: `${victim.name}@example.test`, email_verified: false });
      idp.addUser(impostor);
      const started = await begin(h, P);
      const rows = await sessionRows(h);
      const users = Number((await h.gh.database.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      const res = await callback(h, await atIdp(idp, started, impostor), started.browser);
      await expectRefused(h, res, 403, "oauth_account_not_linked", rows);
      expect(Number((await h.gh.database.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n)).toBe(users);
      expect(await identityRows(h, victim.id)).toBe(0);
    });

    it("attack: username squatting: an IdP account whose preferred_username is a local account's name gets a new account under another name", async () => {
      const victim = await h.account("user", "squatvictim");
      const squatter = idpUser("squatter", { preferred_username: victim.name, email: "squatter@idp.test" });
      idp.addUser(squatter);
      const started = await begin(h, P);
      const res = await callback(h, await atIdp(idp, started, squatter), started.browser);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      const me = await h.request({ method: "GET", url: ME, cookie: mergeCookies(started.browser, res) });
      expect(me.json().user.id).not.toBe(victim.id);
      expect(me.json().user.username).not.toBe(victim.name);
      expect(await identityRows(h, victim.id)).toBe(0);
    });
  });

  describe("provider error reflection", () => {
    it("attack: XSS via error_description: ?error=access_denied&error_description=<script>… with a valid state → 400 oauth_failed page without the text", async () => {
      const started = await begin(h, P);
      const description = "<script>alert(1)</script>";
      const query = new URLSearchParams({ error: "access_denied", error_description: description, state: started.state, iss: idp.issuer });
      const rows = await sessionRows(h);
      const res = await callback(h, `/api/auth/oauth/${P}/callback?${query.toString()}`, started.browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect(res.body).not.toContain("<script>alert");
      expect(res.body).not.toContain("alert(1)");
      expect(res.body).not.toContain("&lt;script");
      expect(res.body).not.toContain("access_denied");
      const failure = await auditOf(h, res, "oauth_failure");
      expect(failure.details).toEqual({ provider: P, reason: "cancelled" });
      expect(JSON.stringify(failure)).not.toContain("alert(1)");
    });

    it("attack: an error callback (error_description with HTML) with a forged state → 400 oauth_state_invalid, nothing reflected", async () => {
      const started = await begin(h, P);
      const query = new URLSearchParams({ error: "access_denied", error_description: "<img src=x onerror=alert(2)>", state: "A".repeat(43), iss: idp.issuer });
      const rows = await sessionRows(h);
      const res = await callback(h, `/api/auth/oauth/${P}/callback?${query.toString()}`, started.browser);
      await expectRefused(h, res, 400, "oauth_state_invalid", rows);
      expect(res.body).not.toMatch(/onerror|alert\(2\)|access_denied/);
    });
  });
});

/** Gatehouse with two providers: `idp-a` the real test IdP, `idp-b` the hostile IdP (another issuer). */
describe.each(backendNames())("attack: two providers, mix-up and nonce replay (%s)", (backend: Backend["name"]) => {
  let h: Harness;
  let a: TestIdp;
  let b: HostileIdp;
  const BOB = idpUser("bob");

  beforeAll(async () => {
    a = await startTestIdp({ users: [BOB] });
    b = await startHostileIdp();
    const settingsA = providerSettings({ id: "idp-a", name: "IdP A", issuer: a.issuer, clientId: "gatehouse-a", clientSecret: "secret-of-idp-a-0123456789", caFile: a.caFile });
    const settingsB = providerSettings({ id: "idp-b", name: "IdP B", issuer: b.issuer, clientId: b.clientId, clientSecret: b.clientSecret, caFile: b.certificate.certFile });
    h = await startHarness(backend, {}, undefined, { providers: [settingsA, settingsB] });
    await a.registerClient({ client_id: settingsA.clientId, client_secret: settingsA.clientSecret, redirect_uris: [`${h.publicUrl}/api/auth/oauth/idp-a/callback`] });
  });
  afterAll(async () => {
    await h?.close();
    await a?.close();
    await b?.close();
  });

  const hostileCallback = async (started: Pick<Started, "location">): Promise<string> => {
    const back = await b.authorize(started.location);
    return `${back.pathname}${back.search}`;
  };

  it("each provider has its own callback path (the redirect_uri sent)", async () => {
    expect((await begin(h, "idp-a")).location.searchParams.get("redirect_uri")).toBe(`${h.publicUrl}/api/auth/oauth/idp-a/callback`);
    expect((await begin(h, "idp-b")).location.searchParams.get("redirect_uri")).toBe(`${h.publicUrl}/api/auth/oauth/idp-b/callback`);
  });

  it("attack: mix-up (OIDC-04): A's code, state and iss delivered to B's callback → 400 oauth_state_invalid, the code never reaches B", async () => {
    const started = await begin(h, "idp-a");
    const path = await atIdp(a, started, BOB);
    expect(path.startsWith("/api/auth/oauth/idp-a/callback?")).toBe(true);
    const tokenCalls = b.tokenBodies.length;
    const rows = await sessionRows(h);
    const res = await callback(h, path.replace("/idp-a/", "/idp-b/"), started.browser);
    await expectRefused(h, res, 400, "oauth_state_invalid", rows);
    expect(b.tokenBodies.length).toBe(tokenCalls);
    expect(await meStatusOf(h, mergeCookies(started.browser, res))).toBe(401);
    expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: "idp-b", reason: "state_of_another_provider" });
  });

  it("attack: mix-up the other way: B's code and state delivered to A's callback → 400 oauth_state_invalid, no token request to A", async () => {
    const started = await begin(h, "idp-b");
    const path = await hostileCallback(started);
    const tokenCalls = a.requests.token.length;
    const rows = await sessionRows(h);
    const res = await callback(h, path.replace("/idp-b/", "/idp-a/"), started.browser);
    await expectRefused(h, res, 400, "oauth_state_invalid", rows);
    expect(a.requests.token.length).toBe(tokenCalls);
  });

  it("attack: mix-up: A's callback with the iss of another issuer (B) → 400 oauth_failed, no token request", async () => {
    const started = await begin(h, "idp-a");
    const path = await atIdp(a, started, BOB);
    const tokenCalls = a.requests.token.length;
    const rows = await sessionRows(h);
    const res = await callback(h, edited(path, { iss: b.issuer }), started.browser);
    await expectRefused(h, res, 400, "oauth_failed", rows);
    expect((await auditOf(h, res, "oauth_failure")).details.reason).toBe("invalid_response");
    expect(a.requests.token.length).toBe(tokenCalls);
  });

  it("attack: nonce replay: an ID token minted for round trip 1's nonce cannot complete round trip 2 → 400 oauth_failed", async () => {
    const claims = { ...b.idTokenClaims };
    try {
      const first = await begin(h, "idp-b");
      const ok = await callback(h, await hostileCallback(first), first.browser);
      expect(ok.statusCode, ok.body.slice(0, 300)).toBe(303);
      expect(sessionCookieFrom(ok)).not.toBeNull();
      // Round trip 2: the IdP answers with an ID token bearing round trip 1's nonce.
      b.mode = "missing_nonce";
      b.idTokenClaims = { ...claims, nonce: first.nonce };
      const second = await begin(h, "idp-b");
      expect(second.nonce).not.toBe(first.nonce);
      const rows = await sessionRows(h);
      const res = await callback(h, await hostileCallback(second), second.browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect(await meStatusOf(h, mergeCookies(second.browser, res))).toBe(401);
    } finally {
      b.mode = "good";
      b.idTokenClaims = claims;
    }
  });

  it("attack: a re-authentication answered from the provider's remembered sign-in (auth_time an hour old, prompt=login ignored) → 400 oauth_failed, the session is not refreshed; a fresh auth_time passes", async () => {
    const saved = { ...b.idTokenClaims };
    // A subject of its own: earlier tests of this group signed in (and made an account) with the hostile IdP's default one.
    const claims = { ...saved, sub: `sudo-${randomUUID()}` };
    b.idTokenClaims = claims;
    try {
      const user = await h.account("user", "sudoviab");
      const page = await h.request({ method: "GET", url: "/account", cookie: user.cookie });
      const csrf = csrfOf(page.body)!;
      const post = (intent: string, cookie: string) =>
        h.request({ method: "POST", url: "/api/auth/oauth/idp-b/start", cookie, payload: formBody({ _csrf: csrf, intent }), headers: { "content-type": "application/x-www-form-urlencoded" } });
      const link = await post("link", user.cookie);
      expect(link.statusCode, link.body.slice(0, 300)).toBe(303);
      let browser = mergeCookies(user.cookie, link);
      const linked = await callback(h, await hostileCallback({ location: new URL(String(link.headers.location)) }), browser);
      expect(String(linked.headers.location)).toBe("/account?notice=provider_linked");
      browser = mergeCookies(browser, linked);

      const stale = await post("reauth", browser);
      const staleAt = new URL(String(stale.headers.location));
      expect(staleAt.searchParams.get("prompt")).toBe("login");
      expect(staleAt.searchParams.get("max_age")).toBe("0");
      b.idTokenClaims = { ...claims, auth_time: Math.floor(Date.now() / 1000) - 3600 };
      const refused = await callback(h, await hostileCallback({ location: staleAt }), mergeCookies(browser, stale));
      expect(refused.statusCode).toBe(400);
      expect(pageError(refused)).toBe("oauth_failed");
      expect(sessionCookieFrom(refused)).toBeNull();
      expect((await auditOf(h, refused, "oauth_failure")).details).toEqual({ provider: "idp-b", reason: "invalid_id_token" });

      const fresh = await post("reauth", browser);
      b.idTokenClaims = { ...claims, auth_time: Math.floor(Date.now() / 1000) };
      const ok = await callback(h, await hostileCallback({ location: new URL(String(fresh.headers.location)) }), mergeCookies(browser, fresh));
      expect(ok.statusCode, ok.body.slice(0, 300)).toBe(303);
      expect(sessionCookieFrom(ok)).not.toBeNull();
    } finally {
      b.idTokenClaims = saved;
    }
  });

  it("attack: an ID token with another nonce (mode wrong_nonce) → 400 oauth_failed, no session", async () => {
    b.mode = "wrong_nonce";
    try {
      const started = await begin(h, "idp-b");
      const rows = await sessionRows(h);
      const res = await callback(h, await hostileCallback(started), started.browser);
      await expectRefused(h, res, 400, "oauth_failed", rows);
      expect((await auditOf(h, res, "oauth_failure")).details).toEqual({ provider: "idp-b", reason: "invalid_id_token" });
    } finally {
      b.mode = "good";
    }
  });
});

/** Registration closed; `test-idp` without and `test-idp-auto` with auto-linking, both on the one test IdP. */
describe.each(backendNames())("attack: unverified email takeover and enumeration (%s)", (backend: Backend["name"]) => {
  let h: Harness;
  let idp: TestIdp;
  let victim: { id: string; cookie: string; name: string };
  const VICTIM_EMAIL = "takeover-victim@example.test";
  const UNVERIFIED = idpUser("claimsunverified", { email: VICTIM_EMAIL, email_verified: false });
  const VERIFIED = idpUser("claimsverified", { email: VICTIM_EMAIL, email_verified: true });
  const STRANGER = idpUser("stranger", { email: "nobody-here@example.test", email_verified: true });
  const STRANGER_UNVERIFIED = idpUser("stranger2", { email: "nobody-either@example.test", email_verified: false });

  beforeAll(async () => {
    idp = await startTestIdp({ users: [UNVERIFIED, VERIFIED, STRANGER, STRANGER_UNVERIFIED] });
    const base = { issuer: idp.issuer, clientId: "gatehouse", clientSecret: "test-client-secret-0123456789", caFile: idp.caFile };
    const plain: ProviderSettings = providerSettings({ ...base, autoLink: false });
    const auto: ProviderSettings = providerSettings({ ...base, id: "test-idp-auto", name: "Test IdP (auto-link)", autoLink: true });
    h = await startHarness(backend, {}, undefined, { providers: [plain, auto] });
    await idp.registerClient({
      client_id: base.clientId,
      client_secret: base.clientSecret,
      redirect_uris: [`${h.publicUrl}/api/auth/oauth/test-idp/callback`, `${h.publicUrl}/api/auth/oauth/test-idp-auto/callback`],
    });
    const res = await h.request({ method: "POST", url: "/api/auth/register", json: { username: "takeovervictim", password: GOOD_PASSWORD, email: VICTIM_EMAIL } });
    expect(res.statusCode, res.body).toBe(201);
    victim = { id: res.json().user.id as string, cookie: sessionCookieFrom(res)!, name: "takeovervictim" };
    await h.gh.settings.update(victim.id, { registration: "closed" }, { ip: "127.0.0.1", userAgent: "oidc-flow test" });
    expect((await h.gh.settings.current()).registration).toBe("closed");
  });
  afterAll(async () => {
    await h?.close();
    await idp?.close();
  });

  // The enumerating browser keeps its pre-session CSRF cookie (else each error page sets a new random one).
  const browserCookie = `gatehouse_csrf=${randomBytes(32).toString("base64url")}`;

  async function attempt(provider: string, user: TestIdpUser): Promise<LightMyRequestResponse> {
    const started = await begin(h, provider, { cookie: browserCookie });
    const rows = await sessionRows(h);
    const res = await callback(h, await atIdp(idp, started, user), started.browser);
    await expectRefused(h, res, 403, "oauth_account_not_linked", rows);
    expect(await meStatusOf(h, mergeCookies(started.browser, res))).toBe(401);
    expect(await identityRows(h)).toBe(0);
    return res;
  }

  /**
   * The answer without what differs between any two pages whatever the account: Date, the request id,
   * and the per-response CSP script nonce (in the header and the page's script tag).
   */
  function comparable(res: LightMyRequestResponse): { status: number; headers: Record<string, unknown>; body: string } {
    const nonce = /'nonce-([^']+)'/.exec(String(res.headers["content-security-policy"]))?.[1];
    expect(nonce).toBeDefined();
    const headers: Record<string, unknown> = JSON.parse(JSON.stringify(res.headers).replaceAll(nonce!, "NONCE"));
    delete headers.date;
    delete headers["x-request-id"];
    return { status: res.statusCode, headers, body: res.body.replaceAll(nonce!, "NONCE") };
  }

  it("attack: an IdP account asserting the victim's email with email_verified false, auto-linking on → 403 oauth_account_not_linked, no access", async () => {
    await attempt("test-idp-auto", UNVERIFIED);
  });

  it("attack: an IdP account asserting the victim's verified email, auto-linking off → 403 oauth_account_not_linked, no access", async () => {
    await attempt("test-idp", VERIFIED);
  });

  it("attack: user enumeration: 'an account has this email' and 'no account, registration closed' answer byte-identically (apart from Date, request id and the per-response CSP nonce)", async () => {
    const exists = await attempt("test-idp", VERIFIED);
    const absent = await attempt("test-idp", STRANGER);
    expect(comparable(exists)).toEqual(comparable(absent));
    const existsUnverified = await attempt("test-idp-auto", UNVERIFIED);
    const absentUnverified = await attempt("test-idp-auto", STRANGER_UNVERIFIED);
    expect(comparable(existsUnverified)).toEqual(comparable(absentUnverified));
    expect(comparable(existsUnverified).body).toBe(comparable(exists).body);
  });

  it("the victim's account is untouched: its session still valid, no identity linked, email unchanged", async () => {
    const me = await h.request({ method: "GET", url: ME, cookie: victim.cookie });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(victim.id);
    expect(me.json().user.email).toBe(VICTIM_EMAIL);
    expect(await identityRows(h, victim.id)).toBe(0);
    const links = await h.gh.stores.audit.list({ type: "oauth_link", limit: 5 });
    expect(links).toEqual([]);
  });
});
