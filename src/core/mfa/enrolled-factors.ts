import type { SecondFactorMethod, SecondFactors } from "../sign-in/second-factors.js";

/** One kind of second factor's answer to "has this user enrolled it?". */
export interface EnrolledFactorSource {
  readonly method: SecondFactorMethod;
  /** True when `userId` has this factor ready to use (a confirmed TOTP, a passkey, an unused recovery code). */
  isEnrolled(userId: string): Promise<boolean>;
  /**
   * True for a factor that only backs up the others (recovery codes): it is
   * offered only when the user also has a primary one, and never counts as
   * "has a second factor" on its own.
   */
  readonly backupOnly?: boolean;
}

/**
 * The {@link SecondFactors} of a deployment: the methods of every source the
 * user has enrolled, in the sources' order (the order a client offers them).
 */
export function createEnrolledFactors(sources: readonly EnrolledFactorSource[]): SecondFactors {
  return {
    async methodsOf(userId) {
      const enrolled = await Promise.all(sources.map(async (s) => ((await s.isEnrolled(userId)) ? s : null)));
      const present = enrolled.filter((s): s is EnrolledFactorSource => s !== null);
      if (!present.some((s) => s.backupOnly !== true)) return [];
      return present.map((s) => s.method);
    },
  };
}
