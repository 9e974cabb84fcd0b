import type { SecondFactorRemover } from "../../src/core/mfa/second-factor-reset.js";
import type { SecondFactors, SecondFactorVerifier, SecondFactorVerifiers } from "../../src/core/sign-in/second-factors.js";

/** The one code the test verifier accepts. */
export const TEST_CODE = "000000";

/**
 * A test double of the second-factor ports, for suites about the flows around a factor rather than a factor itself: the users
 * whose ids are added to `enrolled` have `totp`, and the `totp` verifier
 * accepts {@link TEST_CODE} only; its `remover` (register it on
 * `gh.secondFactorRemovers`) takes them out of `enrolled`, as an
 * administrator's reset would. The database, the pending sign-ins and the
 * sessions stay real.
 */
export function secondFactorDouble() {
  const enrolled = new Set<string>();
  const secondFactors: SecondFactors = { methodsOf: async (userId) => (enrolled.has(userId) ? ["totp"] : []) };
  const totp: SecondFactorVerifier = { amr: "otp", verify: async (_user, code) => code === TEST_CODE };
  const secondFactorVerifiers: SecondFactorVerifiers = new Map([["totp", totp]]);
  const remover: SecondFactorRemover = { method: "totp (test double)", removeAll: async (userId) => void enrolled.delete(userId) };
  return { enrolled, secondFactors, secondFactorVerifiers, remover };
}
