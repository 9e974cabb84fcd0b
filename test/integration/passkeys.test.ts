import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { cookieFrom, passkeyFlows } from "../helpers/passkey-flows.js";

const MIN = 60_000;

describe.each(backendNames())("passkeys through the API (MFA-06, MFA-07, MFA-09) (%s)", (backend) => {
  let h: Harness;
  let flows: ReturnType<typeof passkeyFlows>;

  beforeAll(async () => {
    h = await startHarness(backend);
    flows = passkeyFlows(h);
  });
  afterAll(async () => h?.close());

  const sessionOf = async (cookie: string) => {
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    return (list.json().sessions as { current: boolean; aal: string; amr: string[] }[]).find((s) => s.current);
  };

  it("registration options: a 32-byte challenge, attestation none, ES256 and RS256 only, the RP of PUBLIC_URL, the account id as user handle", async () => {
    const me = await h.account();
    const options = (await flows.registrationOptions(me.cookie)) as unknown as Record<string, unknown> & { challenge: string };
    expect(Buffer.from(options.challenge, "base64url")).toHaveLength(32);
    expect(options).toMatchObject({
      rp: { id: new URL(h.publicUrl).hostname, name: "Gatehouse" },
      attestation: "none",
      pubKeyCredParams: [
        { type: "public-key", alg: -7 },
        { type: "public-key", alg: -257 },
      ],
      authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
      user: { name: me.name },
    });
    expect(Buffer.from((options.user as { id: string }).id, "base64url").toString()).toBe(me.id);
  });

  it("registers a passkey: 201, listed without its key, audited webauthn_registered; rename and (after re-authentication) remove", async () => {
    const me = await h.account();
    const { passkey } = await flows.enrol(me.cookie, { name: "Laptop" });
    expect(passkey).toMatchObject({ name: "Laptop" });
    const list = await h.request({ method: "GET", url: "/api/account/mfa/webauthn", cookie: me.cookie });
    expect(list.statusCode).toBe(200);
    expect(list.json().passkeys).toEqual([{ id: passkey.id, name: "Laptop", createdAt: expect.any(String), lastUsedAt: null, backedUp: false, deviceType: "singleDevice" }]);
    expect(list.body).not.toContain("publicKey");
    expect(await h.gh.stores.audit.list({ userId: me.id, type: "webauthn_registered", limit: 5 })).toHaveLength(1);

    const renamed = await h.request({ method: "PATCH", url: `/api/account/mfa/webauthn/${passkey.id}`, cookie: me.cookie, json: { name: "Work laptop" } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().passkey.name).toBe("Work laptop");
    const other = await h.account();
    expect((await h.request({ method: "PATCH", url: `/api/account/mfa/webauthn/${passkey.id}`, cookie: other.cookie, json: { name: "mine" } })).statusCode).toBe(404);
    expect((await h.request({ method: "DELETE", url: `/api/account/mfa/webauthn/${passkey.id}`, cookie: other.cookie })).statusCode).toBe(404);

    h.clock.advance(11 * MIN);
    const stale = await h.request({ method: "DELETE", url: `/api/account/mfa/webauthn/${passkey.id}`, cookie: me.cookie });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: me.cookie, json: { password: GOOD_PASSWORD } });
    const fresh = sessionCookieFrom(reauth)!;
    const removed = await h.request({ method: "DELETE", url: `/api/account/mfa/webauthn/${passkey.id}`, cookie: fresh });
    expect(removed.statusCode).toBe(204);
    expect((await h.request({ method: "GET", url: "/api/account/mfa/webauthn", cookie: fresh })).json().passkeys).toEqual([]);
    expect(await h.gh.stores.audit.list({ userId: me.id, type: "webauthn_removed", limit: 5 })).toHaveLength(1);
  });

  it("a registration response is refused (400 passkey_rejected) when its challenge was not issued to this session, or it is replayed", async () => {
    const me = await h.account();
    const auth = flows.authenticator();
    const response = auth.register(await flows.registrationOptions(me.cookie));
    const other = await h.account();
    expect((await flows.registerResponse(other.cookie, response)).json().code).toBe("passkey_rejected");
    // The other session's attempt did not consume it (bound): the owner's goes through, once.
    expect((await flows.registerResponse(me.cookie, response)).statusCode).toBe(201);
    const again = await flows.registerResponse(me.cookie, response);
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe("passkey_rejected");
    expect((await flows.registerResponse(me.cookie, { id: "x" })).json().code).toBe("passkey_rejected");
  });

  it("a passkey is a second factor after the password: login lists webauthn first; options allow only the user's passkeys; the session is aal2 with amr [pwd, hwk]", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: me.name, password: GOOD_PASSWORD } });
    expect(login.json()).toEqual({ mfa_required: true, methods: ["webauthn"] });
    const pending = cookieFrom(login, "gatehouse_pending")!;
    const options = await flows.secondFactorOptions(pending);
    expect(options.allowCredentials.map((c) => c.id)).toEqual([auth.id]);
    expect(Buffer.from(options.challenge, "base64url")).toHaveLength(32);
    const res = await flows.verifySecondFactor(pending, auth.assert(options));
    expect(res.statusCode, res.body).toBe(200);
    const cookie = sessionCookieFrom(res)!;
    expect(await sessionOf(cookie)).toMatchObject({ aal: "aal2", amr: ["pwd", "hwk"] });
    const list = await h.request({ method: "GET", url: "/api/account/mfa/webauthn", cookie });
    expect(list.json().passkeys[0].lastUsedAt).not.toBeNull();
  });

  it("passwordless: options take no username and are the same shape for everyone (MFA-09); a discoverable passkey with UV signs in, aal2 amr [hwk, mfa]", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie);
    const { options, cookie, res } = await flows.passwordlessOptions();
    expect(Object.keys(options).sort()).toEqual(["allowCredentials", "challenge", "rpId", "timeout", "userVerification"].sort());
    expect(options).toMatchObject({ allowCredentials: [], userVerification: "required" });
    expect(res.cookies.find((c) => c.name === "gatehouse_webauthn")).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/", maxAge: 300 });
    // Another visitor gets the same answer but for the challenge; a username is not even accepted.
    const other = await flows.passwordlessOptions();
    expect({ ...other.options, challenge: "" }).toEqual({ ...options, challenge: "" });
    expect(other.options.challenge).not.toBe(options.challenge);
    const named = await h.request({ method: "POST", url: "/api/auth/webauthn/options", json: { username: me.name } });
    expect(named.statusCode).toBe(400);
    const signedIn = await flows.passwordless(cookie, auth.assert(options));
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json().user.id).toBe(me.id);
    expect(await sessionOf(sessionCookieFrom(signedIn)!)).toMatchObject({ aal: "aal2", amr: ["hwk", "mfa"] });
    const events = await h.gh.stores.audit.list({ userId: me.id, type: "login_success", limit: 1 });
    expect(events[0]?.details).toMatchObject({ method: "hardware_key", aal: "aal2" });
  });

  it("a synced passkey without a counter (always 0) is tolerated", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie, { counter: 0 });
    for (let i = 0; i < 2; i++) {
      const { options, cookie } = await flows.passwordlessOptions();
      expect((await flows.passwordless(cookie, auth.assert(options))).statusCode).toBe(200);
    }
  });

  it("a blocked account cannot sign in with its passkey (403 account_blocked)", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie);
    await h.gh.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", me.id).execute();
    h.gh.sessions.forgetUser(me.id);
    const { options, cookie } = await flows.passwordlessOptions();
    const res = await flows.passwordless(cookie, auth.assert(options));
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("account_blocked");
  });
});
