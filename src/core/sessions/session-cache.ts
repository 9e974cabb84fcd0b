import type { User } from "../users/user.js";
import type { Session } from "./session.js";

/** A cached session lookup. */
export interface CachedSession {
  session: Session;
  user: User;
  /** When the entry was read from the store (epoch ms); entries older than the cache TTL are re-read. */
  loadedAt?: number;
}

/**
 * What a revocation or a change of a user dropped from the cache: one
 * session, every session of a user, or everything.
 */
export type SessionInvalidation = { kind: "session"; tokenHash: string } | { kind: "user"; userId: string } | { kind: "all" };

/**
 * In-process cache of session lookups keyed by token hash, so the
 * per-request check needs no database read. Entries are dropped at once on
 * revocation or a change of their user made through this process; expiry is
 * re-checked on every hit, and the session service re-reads entries older
 * than a few seconds so changes made elsewhere (another instance, an operator's
 * SQL) take effect quickly.
 */
export interface SessionCache {
  get(tokenHash: string): CachedSession | undefined;
  set(tokenHash: string, entry: CachedSession): void;
  /** Drops one session (it was revoked or replaced). */
  deleteSession(tokenHash: string): void;
  /**
   * Drops one entry this process found dead by itself (gone from the store,
   * expired): a clean-up, not a revocation, so it is never announced to
   * other instances nor to {@link SessionCache.onInvalidate} listeners.
   */
  evict(tokenHash: string): void;
  /** Drops every session of a user (role, block, password or deletion). */
  deleteUser(userId: string): void;
  /** Drops every entry (after a database restore). */
  clear(): void;
  /**
   * Calls `listener` after every {@link SessionCache.deleteSession},
   * {@link SessionCache.deleteUser} and {@link SessionCache.clear} (open
   * WebSockets are re-checked at once). Returns the function that removes it.
   */
  onInvalidate(listener: (invalidation: SessionInvalidation) => void): () => void;
  /** Number of entries (for tests and metrics). */
  size(): number;
  /**
   * A counter bumped by every invalidation. A reader that awaited the store
   * writes its result back only if the generation did not move meanwhile, so
   * a revocation racing a lookup can never be undone by a stale write-back.
   */
  generation(): number;
}

/** A bounded LRU {@link SessionCache} (Map insertion order as recency). */
export function createSessionCache(maxEntries = 10_000): SessionCache {
  const entries = new Map<string, CachedSession>();
  const byUser = new Map<string, Set<string>>();
  let generation = 0;
  const listeners = new Set<(invalidation: SessionInvalidation) => void>();

  function notify(invalidation: SessionInvalidation): void {
    for (const listener of listeners) {
      try {
        listener(invalidation);
      } catch {
        // A listener's failure never undoes or stops an invalidation.
      }
    }
  }

  function remove(tokenHash: string): void {
    const entry = entries.get(tokenHash);
    if (!entry) return;
    entries.delete(tokenHash);
    const set = byUser.get(entry.user.id);
    set?.delete(tokenHash);
    if (set && set.size === 0) byUser.delete(entry.user.id);
  }

  return {
    get(tokenHash) {
      const entry = entries.get(tokenHash);
      if (entry) {
        entries.delete(tokenHash);
        entries.set(tokenHash, entry);
      }
      return entry;
    },
    set(tokenHash, entry) {
      if (maxEntries <= 0) return;
      remove(tokenHash);
      entries.set(tokenHash, entry);
      let set = byUser.get(entry.user.id);
      if (!set) byUser.set(entry.user.id, (set = new Set()));
      set.add(tokenHash);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        remove(oldest);
      }
    },
    deleteSession(tokenHash) {
      generation++;
      remove(tokenHash);
      notify({ kind: "session", tokenHash });
    },
    evict(tokenHash) {
      generation++;
      remove(tokenHash);
    },
    deleteUser(userId) {
      generation++;
      for (const tokenHash of [...(byUser.get(userId) ?? [])]) remove(tokenHash);
      notify({ kind: "user", userId });
    },
    clear() {
      generation++;
      entries.clear();
      byUser.clear();
      notify({ kind: "all" });
    },
    onInvalidate(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    size: () => entries.size,
    generation: () => generation,
  };
}
