import type { Gatehouse } from "../../src/compose.js";
import { createEnrolledFactors, type EnrolledFactorSource } from "../../src/core/mfa/enrolled-factors.js";
import type { RecoveryCodes } from "../../src/core/mfa/recovery-codes/recovery-codes.js";
import { createArgon2Hasher } from "../../src/core/passwords/argon2-hasher.js";
import type { SecondFactorVerifier, SecondFactorVerifiers } from "../../src/core/sign-in/second-factors.js";
import type { Backend } from "./backends.js";
import { startHarness, type Harness } from "./harness.js";
import { MAIL_PUBLIC_URL } from "./mail.js";
import { secondFactorDouble } from "./second-factor-double.js";
import { startSmtpSink, type SmtpSink } from "./smtp-sink.js";

/** Argon2id with small parameters: real PHC strings, fast enough for suites that make many codes. */
export const cheapArgon2 = () => createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

/**
 * The second-factor double (users in `enrolled` have `totp`, accepting
 * TEST_CODE) combined with the REAL recovery codes of the Gatehouse passed to
 * `attach`: the real composite of enrolled-factor sources (recovery codes
 * last, backup only) and the real recovery-code verifier.
 */
export function doubleWithRecoveryCodes() {
  const double = secondFactorDouble();
  let codes: RecoveryCodes | null = null;
  const real = () => {
    if (codes === null) throw new Error("call attach(gh) first");
    return codes;
  };
  const totpSource: EnrolledFactorSource = { method: "totp", isEnrolled: async (id) => double.enrolled.has(id) };
  const recoverySource: EnrolledFactorSource = { method: "recovery_code", backupOnly: true, isEnrolled: (id) => real().source.isEnrolled(id) };
  const recoveryVerifier: SecondFactorVerifier = { amr: "otp", verify: (user, code, origin) => real().verifier.verify(user, code, origin) };
  const secondFactorVerifiers: SecondFactorVerifiers = new Map([...double.secondFactorVerifiers, ["recovery_code", recoveryVerifier]]);
  return {
    enrolled: double.enrolled,
    secondFactors: createEnrolledFactors([totpSource, recoverySource]),
    secondFactorVerifiers,
    attach(gh: Gatehouse) {
      codes = gh.recoveryCodes;
    },
  };
}

/**
 * A harness (with mail to a real SMTP sink, and a cheap Argon2id) whose
 * second factors are `factors` (see {@link doubleWithRecoveryCodes}), attached
 * to its Gatehouse; `close` stops everything.
 */
export async function startRecoveryCodesHarness(backend: Backend["name"], factors: ReturnType<typeof doubleWithRecoveryCodes>): Promise<{ h: Harness; sink: SmtpSink; close(): Promise<void> }> {
  const hasher = cheapArgon2();
  const sink = await startSmtpSink();
  const h = await startHarness(backend, { SMTP_URL: sink.url, PUBLIC_URL: MAIL_PUBLIC_URL }, undefined, {
    hasher,
    secondFactors: factors.secondFactors,
    secondFactorVerifiers: factors.secondFactorVerifiers,
  });
  factors.attach(h.gh);
  return {
    h,
    sink,
    async close() {
      await h.close();
      await sink.stop();
      await hasher.close();
    },
  };
}
