import type { NewOutboxMail } from "../mail/outbox-store.js";
import type { Invitation } from "./invitation.js";

/** A new invitation row: the invitation and the SHA-256 of its token. */
export interface NewInvitation extends Invitation {
  tokenHash: string;
}

/**
 * Persistence port for invitations. Only the SHA-256 of a token is stored;
 * `consume` is the one atomic step that makes a link single-use.
 */
export interface InvitationStore {
  /** Inserts the invitation and writes `mails` to the outbox in one transaction (both or neither). */
  insert(invitation: NewInvitation, mails: NewOutboxMail[]): Promise<void>;
  /** The pending (unused, unrevoked, unexpired at `now`) invitation with this token hash, without using it. */
  findPending(tokenHash: string, now: number): Promise<Invitation | null>;
  /**
   * Atomically marks the pending invitation with this token hash used at
   * `now` and returns it: of two concurrent uses, exactly one gets it.
   */
  consume(tokenHash: string, now: number): Promise<Invitation | null>;
  /**
   * Atomically marks the newest pending invitation addressed to
   * `emailNormalized` used at `now` and returns it (a provider sign-up proved
   * that address): of two concurrent uses, exactly one gets it.
   */
  consumeByEmail(emailNormalized: string, now: number): Promise<Invitation | null>;
  /** Gives a consumed invitation back (the account could not be created with it): pending again, as before. */
  release(id: string): Promise<void>;
  /** Records the account created with a consumed invitation. */
  setUsedBy(id: string, userId: string): Promise<void>;
  findById(id: string): Promise<Invitation | null>;
  /** Newest first, at most `limit`. */
  list(limit: number): Promise<Invitation[]>;
  /** Marks a pending invitation revoked at `now`; null when it is not pending (or unknown). */
  revoke(id: string, now: number): Promise<Invitation | null>;
}
