import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, pendingCookieFrom, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import { inbox } from "../helpers/mail.js";
import { doubleWithRecoveryCodes, startRecoveryCodesHarness } from "../helpers/recovery-codes.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";

function requirePending(res: LightMyRequestResponse): string {
  const cookie = pendingCookieFrom(res);
  if (cookie === null) throw new Error(`no pending cookie (status ${res.statusCode}: ${res.body})`);
  return cookie;
}

describe.each(backendNames())("attacks on recovery codes (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: (() => Promise<void>) | undefined;
  const factors = doubleWithRecoveryCodes();

  beforeAll(async () => {
    ({ h, sink, close } = await startRecoveryCodesHarness(backend, factors));
  });
  afterAll(async () => close?.());

  const pendingLogin = async (name: string) =>
    requirePending(await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } }));
  const verify = (pending: string, code: string) => h.request({ method: "POST", url: "/api/auth/mfa/verify", json: { method: "recovery_code", code }, cookie: pending });

  async function withCodes() {
    const account = await h.account();
    factors.enrolled.add(account.id);
    const codes = (await h.request({ method: "POST", url: "/api/account/mfa/recovery-codes", cookie: account.cookie })).json().codes as string[];
    expect(codes).toHaveLength(10);
    return { ...account, codes };
  }

  it("attack: recovery-code race — one stolen code sent from five sign-ins at once signs in exactly once", async () => {
    const victim = await withCodes();
    const pendings = [];
    for (let i = 0; i < 5; i++) pendings.push(await pendingLogin(victim.name));
    const answers = await Promise.all(pendings.map((p) => verify(p, victim.codes[0]!)));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 401, 401, 401, 401]);
    expect(answers.filter((a) => sessionCookieFrom(a) !== null)).toHaveLength(1);
    expect(await h.gh.stores.audit.list({ userId: victim.id, type: "mfa_recovery_used", limit: 10 })).toHaveLength(1);
    expect(await h.gh.recoveryCodes.remaining(victim.id)).toBe(9);
  });

  it("attack: brute force on recovery codes — after 5 wrong codes the 6th, even a right one, is 429; the user is mailed and the code is not used up", async () => {
    const victim = await withCodes();
    let pending = await pendingLogin(victim.name);
    for (let i = 0; i < 5; i++) {
      // Right lookup part, guessed secret: the lookup alone proves nothing.
      const guess = `${victim.codes[1]!.slice(0, 4)}-0000-0000-0000-000${i}`;
      const res = await verify(pending, guess);
      expect(res.statusCode).toBe(401);
    }
    // The pending sign-in is dropped after five wrong codes: the attacker, who has the password, starts another.
    pending = await pendingLogin(victim.name);
    const right = await verify(pending, victim.codes[1]!);
    expect(right.statusCode).toBe(429);
    expect(right.json().code).toBe("rate_limited");
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect(sessionCookieFrom(right)).toBeNull();
    expect(await h.gh.recoveryCodes.remaining(victim.id)).toBe(10);
    expect(await h.gh.stores.audit.list({ userId: victim.id, type: "mfa_locked", limit: 5 })).toHaveLength(1);
    const mails = await inbox(h, sink, `${victim.name}@example.test`);
    expect(mails.filter((m) => m.subject.includes("paused"))).toHaveLength(1);
    // After the 15-minute pause the right code works.
    h.clock.advance(15 * 60_000 + 1000);
    const later = await verify(await pendingLogin(victim.name), victim.codes[1]!);
    expect(later.statusCode).toBe(200);
  });
});
