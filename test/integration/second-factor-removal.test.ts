import { generate } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { passkeyFlows } from "../helpers/passkey-flows.js";

/** Sets up an authenticator app for the account behind `cookie`; returns its secret (the clock is then one step on). */
async function enrolTotp(h: Harness, cookie: string): Promise<string> {
  const enrol = await h.request({ method: "POST", url: "/api/account/mfa/totp", cookie });
  expect(enrol.statusCode).toBe(200);
  const { secret } = enrol.json() as { secret: string };
  const code = await generate({ secret, epoch: Math.floor(h.clock.now() / 1000) });
  expect((await h.request({ method: "POST", url: "/api/account/mfa/totp/confirm", cookie, json: { code } })).statusCode).toBe(200);
  h.clock.advance(30_000);
  return secret;
}

describe.each(backendNames())("removing second factors where one is required (MFA-08) (%s)", (backend) => {
  let h: Harness;
  let flows: ReturnType<typeof passkeyFlows>;
  beforeAll(async () => {
    h = await startHarness(backend, { MFA_REQUIRED: "admins" });
    flows = passkeyFlows(h);
  });
  afterAll(async () => h?.close());

  const removeTotp = (cookie: string) => h.request({ method: "DELETE", url: "/api/account/mfa/totp", cookie });
  const removePasskey = (cookie: string, id: string) => h.request({ method: "DELETE", url: `/api/account/mfa/webauthn/${id}`, cookie });

  it("an admin's only authenticator app stays (409 last_second_factor); beside a passkey it goes; then the only passkey stays, one of two goes", async () => {
    const admin = await h.account("admin");
    await enrolTotp(h, admin.cookie);
    const refused = await removeTotp(admin.cookie);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe("last_second_factor");
    expect(await h.gh.totp.isEnrolled(admin.id)).toBe(true);

    const first = (await flows.enrol(admin.cookie, { name: "Phone" })).passkey;
    expect((await removeTotp(admin.cookie)).statusCode).toBe(204);
    expect(await h.gh.totp.isEnrolled(admin.id)).toBe(false);

    const last = await removePasskey(admin.cookie, first.id);
    expect(last.statusCode).toBe(409);
    expect(last.json().code).toBe("last_second_factor");
    const second = (await flows.enrol(admin.cookie, { name: "Key" })).passkey;
    expect((await removePasskey(admin.cookie, first.id)).statusCode).toBe(204);
    expect((await removePasskey(admin.cookie, second.id)).statusCode).toBe(409);
    expect(await h.gh.secondFactors.methodsOf(admin.id)).toEqual(["webauthn"]);
  });

  it("a plain user (the requirement is for admins) may remove their only factor", async () => {
    const user = await h.account("user");
    await enrolTotp(h, user.cookie);
    expect((await removeTotp(user.cookie)).statusCode).toBe(204);
    const { passkey } = await flows.enrol(user.cookie);
    expect((await removePasskey(user.cookie, passkey.id)).statusCode).toBe(204);
    expect(await h.gh.secondFactors.methodsOf(user.id)).toEqual([]);
  });
});

describe.each(backendNames())("an administrator's reset removes every real second factor (%s)", (backend) => {
  let h: Harness;
  let flows: ReturnType<typeof passkeyFlows>;
  beforeAll(async () => {
    h = await startHarness(backend, { MFA_REQUIRED: "off" });
    flows = passkeyFlows(h);
  });
  afterAll(async () => h?.close());

  it("authenticator app, passkeys and recovery codes are gone, the sessions ended; the password alone signs in again", async () => {
    const user = await h.account("user");
    await enrolTotp(h, user.cookie);
    await flows.enrol(user.cookie);
    await flows.enrol(user.cookie);
    expect((await h.request({ method: "POST", url: "/api/account/mfa/recovery-codes", cookie: user.cookie })).statusCode).toBe(200);
    expect(await h.gh.secondFactors.methodsOf(user.id)).toEqual(["webauthn", "totp", "recovery_code"]);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).json().user.mfa).toEqual({ totp: true, passkeys: 2 });

    const admin = await h.account("admin");
    const reset = await h.request({ method: "DELETE", url: `/api/admin/users/${user.id}/mfa`, cookie: admin.cookie });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ methods: ["webauthn", "totp", "recovery_code"] });

    const db = h.gh.database.db;
    expect(await db.selectFrom("totp_factors").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
    expect(await db.selectFrom("user_secrets").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
    expect(await db.selectFrom("webauthn_credentials").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
    expect(await db.selectFrom("recovery_codes").selectAll().where("user_id", "=", user.id).execute()).toEqual([]);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).statusCode).toBe(401);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD } });
    expect(login.statusCode).toBe(200);
    expect(login.json().user).toMatchObject({ username: user.name, mfa: { totp: false, passkeys: 0 } });
    const again = (await h.request({ method: "GET", url: "/api/auth/me", cookie: sessionCookieFrom(login) ?? "" })).json().user.mfa;
    expect(again).toEqual({ totp: false, passkeys: 0 });
  });
});

describe.each(backendNames())("a passkey steps up a signed-in session (%s)", (backend) => {
  let h: Harness;
  let flows: ReturnType<typeof passkeyFlows>;
  beforeAll(async () => {
    h = await startHarness(backend);
    flows = passkeyFlows(h);
  });
  afterAll(async () => h?.close());

  const stepUpOptions = async (cookie: string) => {
    const res = await h.request({ method: "POST", url: "/api/auth/webauthn/options", cookie, json: { mode: "second_factor" } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().options as Parameters<ReturnType<typeof flows.authenticator>["assert"]>[0] & { allowCredentials: { id: string }[] };
  };
  const stepUp = (cookie: string, response: unknown) => h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie, json: { method: "webauthn", response } });
  const aalOf = async (cookie: string) => {
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    return (list.json().sessions as { current: boolean; aal: string; amr: string[] }[]).find((s) => s.current);
  };

  it("a password-only session answers step-up options bound to it: aal2, amr pwd hwk, the old token dead; the same assertion is refused twice", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie);
    expect((await aalOf(me.cookie))?.aal).toBe("aal1");
    const options = await stepUpOptions(me.cookie);
    expect(options.allowCredentials.map((c) => c.id)).toEqual([auth.id]);
    const response = auth.assert(options);
    const res = await stepUp(me.cookie, response);
    expect(res.statusCode, res.body).toBe(200);
    const fresh = sessionCookieFrom(res)!;
    expect(await aalOf(fresh)).toMatchObject({ aal: "aal2", amr: ["pwd", "hwk"] });
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: me.cookie })).statusCode).toBe(401);
    expect((await stepUp(fresh, response)).statusCode).toBe(401);
  });

  it("attack: another session's step-up challenge — an assertion over a challenge issued to session A does not step up session B", async () => {
    const me = await h.account();
    const { auth } = await flows.enrol(me.cookie);
    const second = await h.request({ method: "POST", url: "/api/auth/login", json: { username: me.name, password: GOOD_PASSWORD } });
    // Login with a passkey enrolled answers mfa_required: sign in the second browser through its pending sign-in.
    const pending = second.cookies.find((c) => c.name.endsWith("gatehouse_pending"))!;
    const pendingCookie = `${pending.name}=${pending.value}`;
    const done = await flows.verifySecondFactor(pendingCookie, auth.assert(await flows.secondFactorOptions(pendingCookie)));
    expect(done.statusCode).toBe(200);
    const other = sessionCookieFrom(done)!;
    // Session A (password only) asks for options; session B presents the answer.
    const forA = auth.assert(await stepUpOptions(me.cookie));
    const res = await stepUp(other, forA);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("invalid_second_factor");
    // The challenge stayed A's: A still steps up with it.
    expect((await stepUp(me.cookie, forA)).statusCode).toBe(200);
  });
});
