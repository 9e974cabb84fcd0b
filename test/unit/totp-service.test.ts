import { randomBytes } from "node:crypto";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/core/audit/audit-log.js";
import { GatehouseError } from "../../src/core/errors.js";
import type { SecondFactorNotice } from "../../src/core/mfa/account-notices.js";
import type { SecondFactorGuard } from "../../src/core/mfa/second-factor-guard.js";
import { decodeTotpSecret, TOTP_PARAMS } from "../../src/core/mfa/totp/totp-code.js";
import { createTotpService } from "../../src/core/mfa/totp/totp-service.js";
import { totpFactorSource, totpVerifier } from "../../src/core/mfa/totp/totp-second-factor.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { createUserSecrets } from "../../src/core/secrets/user-secrets.js";
import { origin, useSessionFixture, type SessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();
const STEP = 30_000;

/** The guard's job is tested elsewhere (second-factor-guard.test.ts): here it only runs the check. */
const passThrough: SecondFactorGuard = { check: (_user, _ctx, _method, verify) => verify(), unlock: async () => undefined };

function serviceOf(f: SessionFixture) {
  const keyring = createKeyring("k0", [{ id: "k0", key: randomBytes(32) }]);
  const box = createSecretBox({ current: () => keyring }, cryptoRandom);
  const secrets = createUserSecrets({ store: f.stores.userSecrets, box, clock: f.clock, random: cryptoRandom });
  const audit = createAuditLog({ store: f.stores.audit, clock: f.clock, random: cryptoRandom });
  const notices: SecondFactorNotice[] = [];
  const make = () =>
    createTotpService({ store: f.stores.totpFactors, secrets, guard: passThrough, audit, notify: (kind) => notices.push(kind), clock: f.clock, random: cryptoRandom, issuer: "Acme Gate" });
  const user = { id: f.alice, username: "alice", email: "alice@example.test", role: "user" as const };
  /** The code an app shows `offsetMs` from the (manual) now. */
  const codeAt = (secret: string, offsetMs = 0) => generate({ secret, epoch: Math.floor((f.clock.now() + offsetMs) / 1000) });
  return { totp: make(), make, secrets, user, notices, codeAt, events: (type: string) => f.stores.audit.list({ userId: f.alice, type, limit: 10 }) };
}

async function refusal(p: Promise<unknown>): Promise<GatehouseError> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof GatehouseError)) throw new Error(`expected a GatehouseError, got ${String(err)}`);
  return err;
}

/** Enrols and confirms alice, then moves 5 minutes on (mid-step) so the confirmation's step is well in the past. */
async function enrolled(s: ReturnType<typeof serviceOf>) {
  const { secret } = await s.totp.enrol(s.user);
  await s.totp.confirm(s.user, await s.codeAt(secret), origin);
  fx.clock.advance(5 * 60_000);
  return secret;
}

describe("TOTP secrets (MFA-01)", () => {
  it("a new secret is 160 bits (20 bytes of Base32), in an otpauth URL naming the product and the username, with a server-rendered SVG QR code", async () => {
    const s = serviceOf(fx);
    const e = await s.totp.enrol(s.user);
    expect(decodeTotpSecret(e.secret)).toHaveLength(20);
    expect(e.secret).toMatch(/^[A-Z2-7]{32}$/);
    const url = new URL(e.otpauthUrl);
    expect(url.protocol).toBe("otpauth:");
    expect(decodeURIComponent(e.otpauthUrl.split("?")[0]!)).toBe("otpauth://totp/Acme Gate:alice");
    expect(url.searchParams.get("secret")).toBe(e.secret);
    expect(url.searchParams.get("issuer")).toBe("Acme Gate");
    expect(e.qrSvg.startsWith("<svg")).toBe(true);
    expect(e.qrSvg).not.toMatch(/style|<script|href/i);
    // Each enrolment draws a new secret.
    expect((await s.totp.enrol(s.user)).secret).not.toBe(e.secret);
  });

  it("the database holds only an envelope, never the secret (user_secrets kind totp_pending, then totp)", async () => {
    const s = serviceOf(fx);
    const { secret } = await s.totp.enrol(s.user);
    const rows = async () => fx.database.db.selectFrom("user_secrets").select(["kind", "secret_envelope"]).where("user_id", "=", fx.alice).execute();
    const pending = await rows();
    expect(pending.map((r) => r.kind)).toEqual(["totp_pending"]);
    await s.totp.confirm(s.user, await s.codeAt(secret), origin);
    const active = await rows();
    expect(active.map((r) => r.kind)).toEqual(["totp"]);
    const bytes = Buffer.from(decodeTotpSecret(secret));
    for (const r of [...pending, ...active]) {
      expect(r.secret_envelope).toMatch(/^v1\.k0\./);
      for (const form of [secret, bytes.toString("hex"), bytes.toString("base64"), bytes.toString("base64url")]) expect(r.secret_envelope).not.toContain(form);
    }
    const factor = await fx.database.db.selectFrom("totp_factors").selectAll().where("user_id", "=", fx.alice).executeTakeFirstOrThrow();
    expect(JSON.stringify(factor)).not.toContain(secret);
  });

  it("the factor is inactive until a valid code confirms it: not enrolled, no sign-in code accepted, a wrong first code refused", async () => {
    const s = serviceOf(fx);
    const { secret } = await s.totp.enrol(s.user);
    const source = totpFactorSource(s.totp);
    expect(source.method).toBe("totp");
    expect(await source.isEnrolled(fx.alice)).toBe(false);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret))).toBe(false);
    const wrong = (await s.codeAt(secret)) === "000000" ? "111111" : "000000";
    expect((await refusal(s.totp.confirm(s.user, wrong, origin))).code).toBe("invalid_second_factor");
    expect(await source.isEnrolled(fx.alice)).toBe(false);
    expect(await s.events("mfa_enabled")).toHaveLength(0);
    fx.clock.advance(STEP);
    await s.totp.confirm(s.user, await s.codeAt(secret), origin);
    expect(await source.isEnrolled(fx.alice)).toBe(true);
    const [event] = await s.events("mfa_enabled");
    expect(event?.details).toEqual({ method: "totp" });
    expect(s.notices).toEqual(["second_factor_added"]);
  });

  it("confirming without an enrolment: 409 enrolment_not_started", async () => {
    const s = serviceOf(fx);
    expect((await refusal(s.totp.confirm(s.user, "123456", origin))).code).toBe("enrolment_not_started");
  });

  it("after re-enrolment the old secret works until the new one is confirmed, then its codes fail (401 at sign-in)", async () => {
    const s = serviceOf(fx);
    const old = await enrolled(s);
    const { secret: next } = await s.totp.enrol(s.user);
    expect(next).not.toBe(old);
    // Still enrolled, and the old app still signs in while the new one is unconfirmed.
    expect(await s.totp.isEnrolled(fx.alice)).toBe(true);
    expect(await s.totp.verify(fx.alice, await s.codeAt(old))).toBe(true);
    expect(await s.totp.verify(fx.alice, await s.codeAt(next, STEP))).toBe(false);
    fx.clock.advance(STEP);
    await s.totp.confirm(s.user, await s.codeAt(next), origin);
    fx.clock.advance(2 * STEP);
    expect(await s.totp.verify(fx.alice, await s.codeAt(old))).toBe(false);
    expect(await s.totp.verify(fx.alice, await s.codeAt(next))).toBe(true);
  });
});

describe("TOTP codes (MFA-02)", () => {
  it("HMAC-SHA-1, 6 digits, 30-second steps", () => {
    expect(TOTP_PARAMS).toMatchObject({ secretBytes: 20, algorithm: "sha1", digits: 6, periodSeconds: 30, toleranceSteps: 1 });
  });

  it("codes from t−30 s and t+30 s are accepted; from t−60 s and t+60 s refused", async () => {
    const s = serviceOf(fx);
    const secret = await enrolled(s);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret, -60_000))).toBe(false);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret, 60_000))).toBe(false);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret, -30_000))).toBe(true);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret, 30_000))).toBe(true);
  });

  it("attack: replay — the same code twice: the second is refused", async () => {
    const s = serviceOf(fx);
    const secret = await enrolled(s);
    const code = await s.codeAt(secret);
    const verifier = totpVerifier(s.totp);
    expect(verifier.amr).toBe("otp");
    expect(await verifier.verify({ id: fx.alice } as never, code, origin)).toBe(true);
    expect(await verifier.verify({ id: fx.alice } as never, code, origin)).toBe(false);
    // Still refused 20 s later, in the same step.
    fx.clock.advance(20_000);
    expect(await s.totp.verify(fx.alice, code)).toBe(false);
  });

  it("attack: replay — a step-N code after the step-N+1 code was used is refused", async () => {
    const s = serviceOf(fx);
    const secret = await enrolled(s);
    const stepN = await s.codeAt(secret);
    const stepN1 = await s.codeAt(secret, STEP);
    expect(await s.totp.verify(fx.alice, stepN1)).toBe(true);
    expect(await s.totp.verify(fx.alice, stepN)).toBe(false);
  });

  it("attack: replay across instances — two services on one database, the same code at once: exactly one accepts", async () => {
    const s = serviceOf(fx);
    const secret = await enrolled(s);
    const code = await s.codeAt(secret);
    const results = await Promise.all([s.make(), s.make(), s.make()].map((instance) => instance.verify(fx.alice, code)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("malformed codes are simply wrong (never an exception): too short, too long, letters, empty", async () => {
    const s = serviceOf(fx);
    await enrolled(s);
    for (const code of ["", "12345", "1234567", "abcdef", "12 456", "１２３４５６"]) expect(await s.totp.verify(fx.alice, code)).toBe(false);
  });

  it("disabling removes the factor and both secrets, audits mfa_disabled and mails the user; its codes stop working", async () => {
    const s = serviceOf(fx);
    const secret = await enrolled(s);
    await s.totp.enrol(s.user);
    expect(await s.totp.disable(s.user, origin)).toBe(true);
    expect(await s.totp.isEnrolled(fx.alice)).toBe(false);
    expect(await s.totp.verify(fx.alice, await s.codeAt(secret))).toBe(false);
    expect(await fx.database.db.selectFrom("user_secrets").select("kind").where("user_id", "=", fx.alice).execute()).toEqual([]);
    expect((await s.events("mfa_disabled"))[0]?.details).toEqual({ method: "totp" });
    expect(s.notices).toEqual(["second_factor_added", "second_factor_removed"]);
    expect(await s.totp.disable(s.user, origin)).toBe(false);
  });
});
