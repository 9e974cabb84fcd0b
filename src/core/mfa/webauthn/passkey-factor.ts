import type { SecondFactorVerifier } from "../../sign-in/second-factors.js";
import type { EnrolledFactorSource } from "../enrolled-factors.js";
import { PASSKEY_METHOD, type Passkeys } from "./passkeys.js";

/** Passkeys as a second factor: enrolled when the user has one (method `webauthn`). */
export function passkeyFactorSource(passkeys: Pick<Passkeys, "hasAny">): EnrolledFactorSource {
  return { method: PASSKEY_METHOD, isEnrolled: (userId) => passkeys.hasAny(userId) };
}

/**
 * The `webauthn` second-factor check: the code is the JSON of an assertion
 * answering a challenge issued to the same pending sign-in, or to the same
 * session stepping up (amr `hwk`).
 */
export function passkeyVerifier(passkeys: Pick<Passkeys, "verifySecondFactor">): SecondFactorVerifier {
  return {
    amr: "hwk",
    verify: (user, code, origin, context) => passkeys.verifySecondFactor(user, code, context, origin),
  };
}
