import type { EnrolledFactorSource } from "../enrolled-factors.js";
import type { SecondFactorVerifier } from "../../sign-in/second-factors.js";
import { TOTP_METHOD, type TotpService } from "./totp-service.js";

/** The authenticator app as an enrolled-factor source: confirmed factors only. */
export function totpFactorSource(totp: Pick<TotpService, "isEnrolled">): EnrolledFactorSource {
  return { method: TOTP_METHOD, isEnrolled: (userId) => totp.isEnrolled(userId) };
}

/** The authenticator app's sign-in verifier: a right code adds `otp` to the session's `amr`. */
export function totpVerifier(totp: Pick<TotpService, "verify">): SecondFactorVerifier {
  return { amr: "otp", verify: (user, code) => totp.verify(user.id, code) };
}
