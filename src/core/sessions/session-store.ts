import type { User } from "../users/user.js";
import type { Session } from "./session.js";

/** Persistence port for sessions (Lucia-style, shaped by use). */
export interface SessionStore {
  insert(session: Session): Promise<void>;
  /** The session with this token hash and its user, or null. */
  findWithUser(tokenHash: string): Promise<{ session: Session; user: User } | null>;
  /**
   * Optional synchronous {@link SessionStore.findWithUser}, for a store that can
   * read without waiting on I/O (SQLite): the same answer, or `undefined` when it
   * cannot answer right now (then the caller awaits `findWithUser`). Never
   * answers from anything but the database (no cache of its own), so a
   * revocation is seen by the very next call.
   */
  findWithUserNow?(tokenHash: string): { session: Session; user: User } | null | undefined;
  /** Records activity. */
  touch(id: string, lastSeenAt: number): Promise<void>;
  /** Deletes one session by id; `userId` scopes the delete to its owner when given. */
  delete(id: string, userId?: string): Promise<boolean>;
  /** Deletes all of a user's sessions except `exceptId`; returns the deleted ids. */
  deleteAllForUser(userId: string, exceptId?: string): Promise<string[]>;
  /** A user's sessions, newest first. */
  listForUser(userId: string, limit: number, offset: number): Promise<Session[]>;
  /** Sessions neither expired nor idle at `now` (admin stats). */
  countActive(now: number, idleMs: number): Promise<number>;
  /** Deletes every session whose absolute expiry or idle deadline is before `now`. Returns the count. */
  deleteExpired(now: number, idleMs: number): Promise<number>;
}
