import { describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import { hashToken } from "../../src/core/crypto/tokens.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createBanPolicy } from "../../src/core/rate-limit/ban-policy.js";
import { defaultProtectionPolicy } from "../../src/core/rate-limit/protection-policy.js";
import { createSecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import { createSecondFactorGuard } from "../../src/core/mfa/second-factor-guard.js";
import { assuranceOf, formatAmr, parseAmr } from "../../src/core/sessions/assurance.js";
import { createPendingSignIn, PENDING_SIGN_IN_MAX_FAILURES, PENDING_SIGN_IN_MS } from "../../src/core/sign-in/pending-sign-in.js";
import { createSignIn } from "../../src/core/sign-in/sign-in.js";
import { createMemoryLimiterStore } from "../../src/storage/memory/memory-limiter-store.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";
import { origin, useSessionFixture, type SessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

/** The real pending sign-in over the fixture's SQLite database, with a double of the second-factor ports. */
function flow(f: SessionFixture) {
  const audit = createAuditLog({ store: f.stores.audit, clock: f.clock, random: cryptoRandom });
  const limiter = createMemoryLimiterStore();
  const policy = defaultProtectionPolicy;
  const regulator = createSecretRegulator({ store: limiter, clock: f.clock, audit, bans: createBanPolicy({ store: limiter, clock: f.clock, audit, policy }), policy });
  const signIn = createSignIn({ users: f.stores.users, sessions: f.svc, audit, clock: f.clock });
  const factors = secondFactorDouble();
  const pending = createPendingSignIn({
    store: f.stores.pendingSignIns,
    users: f.stores.users,
    sessions: f.svc,
    signIn,
    secondFactors: factors.secondFactors,
    verifiers: factors.secondFactorVerifiers,
    guard: createSecondFactorGuard({ regulator, store: limiter, audit, clock: f.clock, notify: () => undefined }),
    clock: f.clock,
    random: cryptoRandom,
  });
  const events = (type: string) => f.stores.audit.list({ userId: f.alice, type, limit: 10 });
  return { pending, enrolled: factors.enrolled, events, regulator };
}

async function alice(f: SessionFixture) {
  const user = await f.stores.users.findById(f.alice);
  if (!user) throw new Error("no alice");
  return user;
}

/** A password already proved for alice: where the login flow hands over. */
async function begin(f: SessionFixture, p: ReturnType<typeof flow>, replacing: string | null = null) {
  const outcome = await p.pending.afterFirstFactor({ user: await alice(f), methods: ["pwd"], flow: "login", origin, remember: true, replacing });
  if (outcome.status !== "mfa_required") throw new Error("expected a pending sign-in");
  return outcome;
}

const pendingRows = (f: SessionFixture) => f.database.db.selectFrom("pending_sign_ins").selectAll().execute();

describe("assurance: aal2 takes two kinds of factor", () => {
  it("a password alone, or two possession factors, is aal1; a password and a code is aal2", () => {
    expect(assuranceOf(["pwd"])).toBe("aal1");
    expect(assuranceOf(["hwk"])).toBe("aal1");
    expect(assuranceOf(["otp", "hwk"])).toBe("aal1");
    expect(assuranceOf(["pwd", "otp"])).toBe("aal2");
    expect(assuranceOf(["pwd", "hwk"])).toBe("aal2");
  });

  it("a passkey that verified its user (amr hwk + mfa, a passwordless sign-in) is aal2; the key alone is not", () => {
    expect(assuranceOf(["hwk", "mfa"])).toBe("aal2");
    expect(assuranceOf(["hwk"])).toBe("aal1");
    expect(parseAmr(formatAmr(["hwk", "mfa"]))).toEqual(["hwk", "mfa"]);
  });
});

describe("pending sign-in: a proved password for a user with a second factor is not a session", () => {
  it("without a second factor the password signs in at once (aal1, amr pwd)", async () => {
    const p = flow(fx);
    const outcome = await p.pending.afterFirstFactor({ user: await alice(fx), methods: ["pwd"], flow: "login", origin, remember: false });
    expect(outcome.status).toBe("signed_in");
    if (outcome.status !== "signed_in") return;
    expect(outcome.issued.session).toMatchObject({ aal: "aal1", amr: ["pwd"] });
    expect(await pendingRows(fx)).toEqual([]);
  });

  it("with one: no session is issued, the presented session ends, and only the SHA-256 of the pending token is stored", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const planted = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    const outcome = await begin(fx, p, planted.token);
    expect(outcome.methods).toEqual(["totp"]);
    expect(outcome.pending.expiresAt - outcome.pending.createdAt).toBe(PENDING_SIGN_IN_MS);
    // The planted session ended; no session replaced it.
    expect(await fx.svc.validate(planted.token)).toBeNull();
    expect(await fx.rowCount(fx.alice)).toBe(0);
    // Hashed at rest: the token itself is nowhere in the table.
    const rows = await pendingRows(fx);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ token_hash: hashToken(outcome.pending.token), user_id: fx.alice, amr: "pwd", remember: 1 });
    expect(JSON.stringify(rows)).not.toContain(outcome.pending.token);
    // The pending token is no session token.
    expect(await fx.svc.validate(outcome.pending.token)).toBeNull();
    expect(await p.events("login_success")).toEqual([]);
  });

  it("the right second factor completes it: aal2, amr pwd + otp, remember kept, login_success with aal and amr", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    const { issued } = await p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null);
    expect(issued.session).toMatchObject({ userId: fx.alice, aal: "aal2", amr: ["pwd", "otp"], remember: true });
    expect((await fx.svc.validate(issued.token))?.session).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    const [event] = await p.events("login_success");
    expect(event?.details).toMatchObject({ method: "password", aal: "aal2", amr: "pwd otp" });
    expect(await pendingRows(fx)).toEqual([]);
  });

  it("expiry with an injected clock: usable until 5 minutes, refused (sign_in_expired) from then on", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const early = await begin(fx, p);
    const late = await begin(fx, p);
    fx.clock.advance(PENDING_SIGN_IN_MS - 1);
    await expect(p.pending.complete(early.pending.token, { method: "totp", code: TEST_CODE }, origin, null)).resolves.toMatchObject({ user: { id: fx.alice } });
    fx.clock.advance(1);
    await expect(p.pending.complete(late.pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    expect(await p.pending.purgeExpired()).toBe(1);
    expect(await pendingRows(fx)).toEqual([]);
  });

  it("single use: of two concurrent right completions exactly one signs in, the other gets sign_in_expired", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    const results = await Promise.allSettled([
      p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null),
      p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: "sign_in_expired" });
    expect(await fx.rowCount(fx.alice)).toBe(1);
  });

  it("replaying a used pending token: sign_in_expired, no second session", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    await p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null);
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    expect(await fx.rowCount(fx.alice)).toBe(1);
  });

  it(`guessing codes: ${PENDING_SIGN_IN_MAX_FAILURES} wrong ones drop the pending sign-in, after which even the right code is refused`, async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    for (let i = 0; i < PENDING_SIGN_IN_MAX_FAILURES; i++) {
      await expect(p.pending.complete(pending.token, { method: "totp", code: `12345${i}` }, origin, null)).rejects.toMatchObject({ code: "invalid_second_factor" });
    }
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    expect(await p.events("mfa_failure")).toHaveLength(PENDING_SIGN_IN_MAX_FAILURES);
    expect(await p.regulator.failures(`mfa:user:${fx.alice}`)).toBe(PENDING_SIGN_IN_MAX_FAILURES);
    expect(await fx.rowCount(fx.alice)).toBe(0);
  });

  it("a method the user has not enrolled, or that no verifier knows, is a wrong factor", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    await expect(p.pending.complete(pending.token, { method: "webauthn", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "invalid_second_factor" });
    await expect(p.pending.complete(pending.token, { method: "__proto__", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "invalid_second_factor" });
    // Still usable with the enrolled method.
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).resolves.toBeTruthy();
  });

  it("a stolen pending cookie replayed from another user agent is refused and ends the pending sign-in (MFA-04)", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    const elsewhere = { ...origin, userAgent: "curl/8.0" };
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, elsewhere, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
  });

  it("a user blocked while the sign-in waits cannot complete it", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    await fx.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", fx.alice).execute();
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    expect(await fx.rowCount(fx.alice)).toBe(0);
  });

  it("a password changed while the sign-in waits voids it: the old password's half sign-in cannot be completed", async () => {
    const p = flow(fx);
    p.enrolled.add(fx.alice);
    const { pending } = await begin(fx, p);
    fx.clock.advance(1_000);
    await fx.stores.users.updatePasswordHash(fx.alice, "new-hash", fx.clock.now());
    await expect(p.pending.complete(pending.token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    expect(await pendingRows(fx)).toEqual([]);
  });

  it("malformed or unknown tokens are refused without a lookup result", async () => {
    const p = flow(fx);
    for (const token of ["", "x", "A".repeat(43), "../../etc"]) {
      await expect(p.pending.complete(token, { method: "totp", code: TEST_CODE }, origin, null)).rejects.toMatchObject({ code: "sign_in_expired" });
    }
  });
});
