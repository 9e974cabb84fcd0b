import { randomBytes } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csrfTokenFor } from "../../src/core/csrf/csrf-token.js";
import { deriveKey } from "../../src/core/crypto/derive-key.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { expectErrorBody, meStatus, rawSetCookies, sha256hex, tokenOf, uname } from "../helpers/attacks.js";

// Known to the test so it can mint X-CSRF-Token values exactly as the server does.
const SECRET_KEY = randomBytes(32).toString("hex");
const NEW_PASSWORD = "velvet-harbor-compass-77";
/** Removes the harness's default same-origin `Origin`, leaving only the headers given. */
const bare = (headers: Record<string, string> = {}) => ({ origin: null, ...headers });

describe.each(backendNames())("attack: cross-site request forgery (%s)", (backend) => {
  let h: Harness;
  const csrfKey = deriveKey(SECRET_KEY, "csrf");
  const csrfTokenOf = (cookie: string) => csrfTokenFor(csrfKey, sha256hex(tokenOf(cookie)));
  beforeAll(async () => {
    h = await startHarness(backend, { SECRET_KEY });
  });
  afterAll(async () => h?.close());

  const logout = (cookie: string, headers: Record<string, string | null>) => h.request({ method: "POST", url: "/api/auth/logout", cookie, headers });
  const changePassword = (cookie: string, headers: Record<string, string | null>) =>
    h.request({ method: "POST", url: "/api/account/password", cookie, headers, json: { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD } });
  const loginStatus = async (username: string, password: string) =>
    (await h.request({ method: "POST", url: "/api/auth/login", json: { username, password } })).statusCode;

  /** Asserts the forged logout and password change were refused and changed nothing. */
  async function expectRefused(headers: Record<string, string | null>) {
    const user = uname("csrfvictim");
    const { cookie } = await h.register(user);
    const out = await logout(cookie, headers);
    expectErrorBody(out, 403, "csrf");
    expect(rawSetCookies(out)).toEqual([]);
    expect(await meStatus(h, cookie)).toBe(200);
    const pw = await changePassword(cookie, headers);
    expectErrorBody(pw, 403, "csrf");
    expect(await meStatus(h, cookie)).toBe(200);
    expect(await loginStatus(user, GOOD_PASSWORD)).toBe(200);
    expect(await loginStatus(user, NEW_PASSWORD)).toBe(401);
  }

  /** Asserts the request passes the cross-site check (logout succeeds and ends the session). */
  async function expectAllowed(headers: Record<string, string | null>, cookieFor?: (cookie: string) => Record<string, string>) {
    const { cookie } = await h.register(uname("csrfok"));
    const res = await logout(cookie, { ...headers, ...(cookieFor ? cookieFor(cookie) : {}) });
    expect(res.statusCode, res.body).toBe(204);
    expect(await meStatus(h, cookie)).toBe(401);
  }

  it("CSRF: Sec-Fetch-Site: cross-site is refused (403 csrf) and nothing changes", async () => {
    await expectRefused({ "sec-fetch-site": "cross-site" });
  });

  it("CSRF: Sec-Fetch-Site: same-site (a sibling subdomain) is refused too", async () => {
    await expectRefused({ "sec-fetch-site": "same-site" });
  });

  it("CSRF: Sec-Fetch-Site: cross-site wins over a same-origin Origin and X-Requested-With", async () => {
    await expectRefused({ "sec-fetch-site": "cross-site", "x-requested-with": "XMLHttpRequest" });
  });

  it("CSRF: a foreign Origin (https://evil.test) is refused", async () => {
    await expectRefused({ origin: "https://evil.test" });
  });

  it("CSRF: an Origin that merely starts with the public origin (localhost:8080.evil.test) is refused", async () => {
    const host = new URL(h.publicUrl).host;
    await expectRefused({ origin: `http://${host}.evil.test` });
  });

  it("CSRF: the public origin on another scheme or port is refused", async () => {
    const u = new URL(h.publicUrl);
    await expectRefused({ origin: `https://${u.host}` });
    await expectRefused({ origin: `${u.protocol}//${u.hostname}:1${u.port || "80"}` });
  });

  it("CSRF: Origin: null (sandboxed iframe, data: URL) is refused", async () => {
    await expectRefused({ origin: "null" });
  });

  it("CSRF: a request with no Origin, Sec-Fetch-Site or Referer at all is refused", async () => {
    await expectRefused(bare());
  });

  it("CSRF: a cross-site Referer, or one that only prefixes the public origin, is refused", async () => {
    await expectRefused(bare({ referer: "https://evil.test/page" }));
    await expectRefused(bare({ referer: `${h.publicUrl}.evil.test/x` }));
    await expectRefused(bare({ referer: "not a url" }));
  });

  it("CSRF: X-Requested-With with any other value than XMLHttpRequest is refused", async () => {
    await expectRefused(bare({ "x-requested-with": "fetch" }));
  });

  it("CSRF: a same-origin Origin passes", async () => {
    await expectAllowed({ origin: h.publicUrl });
  });

  it("CSRF: Sec-Fetch-Site: same-origin (and none, a user-typed navigation) pass", async () => {
    await expectAllowed({ "sec-fetch-site": "same-origin" });
    await expectAllowed({ "sec-fetch-site": "none" });
  });

  it("CSRF: only a same-origin Referer passes", async () => {
    await expectAllowed(bare({ referer: `${h.publicUrl}/account` }));
  });

  it("CSRF: X-Requested-With: XMLHttpRequest alone passes (it cannot be sent cross-site without CORS)", async () => {
    await expectAllowed(bare({ "x-requested-with": "XMLHttpRequest" }));
  });

  it("CSRF: a valid X-CSRF-Token bound to the session passes with no other header", async () => {
    await expectAllowed(bare(), (cookie) => ({ "x-csrf-token": csrfTokenOf(cookie) }));
  });

  it("CSRF: a CSRF token minted for another session (or the attacker's own) is refused", async () => {
    const { cookie: attacker } = await h.register(uname("csrfattacker"));
    await expectRefused(bare({ "x-csrf-token": csrfTokenOf(attacker) }));
    await expectRefused(bare({ "x-csrf-token": "" }));
    await expectRefused(bare({ "x-csrf-token": "A".repeat(43) }));
  });

  it("CSRF: a CSRF token signed with another server's key is refused", async () => {
    const other = deriveKey(randomBytes(32).toString("hex"), "csrf");
    const { cookie } = await h.register(uname("csrfotherkey"));
    const res = await logout(cookie, bare({ "x-csrf-token": csrfTokenFor(other, sha256hex(tokenOf(cookie))) }));
    expectErrorBody(res, 403, "csrf");
    expect(await meStatus(h, cookie)).toBe(200);
  });

  it("login CSRF: a cross-site login with the attacker's right credentials is refused and sets no cookie", async () => {
    const attacker = uname("csrflogin");
    await h.register(attacker);
    const forged: Record<string, string | null>[] = [{ "sec-fetch-site": "cross-site" }, { origin: "https://evil.test" }, bare()];
    for (const headers of forged) {
      const res = await h.request({ method: "POST", url: "/api/auth/login", headers, json: { username: attacker, password: GOOD_PASSWORD } });
      expectErrorBody(res, 403, "csrf");
      expect(rawSetCookies(res)).toEqual([]);
    }
  });

  it("CSRF: a forged account deletion is refused and the account survives", async () => {
    const user = uname("csrfdelete");
    const { cookie } = await h.register(user);
    const res = await h.request({ method: "DELETE", url: "/api/account", cookie, headers: { origin: "https://evil.test" }, json: { password: GOOD_PASSWORD } });
    expectErrorBody(res, 403, "csrf");
    expect(await meStatus(h, cookie)).toBe(200);
  });

  it("cache poisoning of CSRF decisions: responses to unsafe methods Vary on Sec-Fetch-Site and Origin", async () => {
    const { cookie } = await h.register(uname("csrfvary"));
    const varies = (res: LightMyRequestResponse) => String(res.headers.vary ?? "").toLowerCase();
    const refused = await logout(cookie, { origin: "https://evil.test" });
    expect(refused.statusCode).toBe(403);
    const allowed = await logout(cookie, {});
    expect(allowed.statusCode).toBe(204);
    for (const res of [refused, allowed]) {
      expect(varies(res)).toContain("sec-fetch-site");
      expect(varies(res)).toContain("origin");
    }
  });
});
