import type { MailKind } from "./mail-message.js";

/** A mail ready to be written to the outbox (its payload already sealed). */
export interface NewOutboxMail {
  id: string;
  kind: MailKind;
  /** The sealed {@link MailMessage} (see `MailSealer`). */
  payload: string;
  createdAt: number;
}

/** A mail claimed by one worker for one send attempt. */
export interface ClaimedMail {
  id: string;
  kind: MailKind;
  payload: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** How many outbox rows are in each state. */
export interface OutboxCounts {
  pending: number;
  sent: number;
  failed: number;
}

/**
 * Persistence port of the durable outbox. Claims are leases: a row claimed by
 * a worker that then dies becomes due again once the lease ends, so a crash
 * loses nothing; a row marked sent is never claimed again.
 */
export interface OutboxStore {
  /** Writes one mail (for mails that carry no token; token mails go through `EmailTokenStore.issue`). */
  enqueue(mail: NewOutboxMail): Promise<void>;
  /**
   * Claims up to `limit` pending rows due at `now` whose lease (if any) has
   * ended, for `owner` until `now + leaseMs`. Of two workers racing for one
   * row, exactly one gets it.
   */
  claimDue(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedMail[]>;
  /** Marks a claimed row sent and blanks its payload; false when `owner` no longer holds it. */
  markSent(id: string, owner: string, now: number): Promise<boolean>;
  /** Records a failed attempt: due again at `nextAttemptAt`, or given up (`null`, payload blanked). */
  markFailed(id: string, owner: string, nextAttemptAt: number | null, error: string): Promise<void>;
  /** Deletes sent and given-up rows created before `before`; returns how many. */
  purge(before: number): Promise<number>;
  counts(): Promise<OutboxCounts>;
}
