import type { AuditEvent } from "../audit/audit-event.js";
import type { Clock } from "../clock.js";

/** What `/api/auth/me` says about a user's second factors. */
export interface FactorSummary {
  totp: boolean;
  passkeys: number;
}

/**
 * A user's second factors for display (`/api/auth/me`), kept in memory for a
 * short while so the most called route of a signed-in client does not query
 * three tables each time. Never used to decide anything: sign-in, step-up and
 * the policy ask the stores. A change audited by this process (a factor added
 * or removed, a reset) is seen at once; one made by another instance within
 * `ttlMs`.
 */
export interface FactorSummaries {
  summaryOf(userId: string): Promise<FactorSummary>;
  /** Forgets a user's summary when an audited event changes their factors (wire it as an audit sink). */
  observe(event: Pick<AuditEvent, "type" | "userId">): void;
}

/** The audit events that change a user's second factors. */
const CHANGES = new Set(["mfa_enabled", "mfa_disabled", "mfa_reset", "webauthn_registered", "webauthn_removed", "user_deleted"]);

/** Creates the {@link FactorSummaries}. */
export function createFactorSummaries(deps: {
  totpEnrolled(userId: string): Promise<boolean>;
  passkeyCount(userId: string): Promise<number>;
  clock: Clock;
  /** How long a summary is kept (default 30 s). */
  ttlMs?: number;
  /** Users kept at most (default 10,000; the oldest goes first). */
  maxEntries?: number;
}): FactorSummaries {
  const ttlMs = deps.ttlMs ?? 30_000;
  const maxEntries = deps.maxEntries ?? 10_000;
  const kept = new Map<string, { summary: FactorSummary; until: number }>();
  return {
    async summaryOf(userId) {
      const now = deps.clock.now();
      const hit = kept.get(userId);
      if (hit !== undefined && hit.until > now) return hit.summary;
      const [totp, passkeys] = await Promise.all([deps.totpEnrolled(userId), deps.passkeyCount(userId)]);
      const summary = { totp, passkeys };
      kept.delete(userId);
      if (kept.size >= maxEntries) kept.delete(kept.keys().next().value as string);
      kept.set(userId, { summary, until: now + ttlMs });
      return summary;
    },
    observe(event) {
      if (event.userId !== null && CHANGES.has(event.type)) kept.delete(event.userId);
    },
  };
}
