/**
 * A user's authenticator app (TOTP) as stored: whether it is confirmed and
 * the last time step a code was accepted for. The secret is not here: it is
 * a user secret (kind {@link TOTP_SECRET_KIND}, encrypted at rest).
 */
export interface TotpFactor {
  userId: string;
  /** When the first code confirmed it; null while only an enrolment exists. */
  confirmedAt: number | null;
  /** The last accepted time step (0 before any); a code must be for a later step. */
  lastUsedStep: number;
  createdAt: number;
  updatedAt: number;
}

/** Persistence port for {@link TotpFactor}s: one row per user. */
export interface TotpFactorStore {
  find(userId: string): Promise<TotpFactor | null>;
  /** Inserts an unconfirmed row for `userId` unless one exists (an existing, confirmed one is left as it is). */
  ensure(userId: string, now: number): Promise<void>;
  /**
   * Records `step` as used, atomically and only if it is later than the last
   * used step (`… where last_used_step < step`): false when another request,
   * on any instance, already used this step or a later one (replay).
   */
  useStep(userId: string, step: number, now: number): Promise<boolean>;
  /** Marks the factor confirmed (keeps the first confirmation's time when already confirmed). */
  confirm(userId: string, now: number): Promise<void>;
  /** True when a row was deleted. */
  remove(userId: string): Promise<boolean>;
}

/** The user-secret kind of the active TOTP secret. */
export const TOTP_SECRET_KIND = "totp";

/** The user-secret kind of an enrolment's secret, until its first code confirms it. */
export const TOTP_PENDING_SECRET_KIND = "totp_pending";
