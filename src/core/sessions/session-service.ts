import type { Clock } from "../clock.js";
import { generateToken, hashToken, isWellFormedToken } from "../crypto/tokens.js";
import type { Random } from "../random.js";
import type { User } from "../users/user.js";
import { assuranceOf, type AuthMethod } from "./assurance.js";
import { sessionEndsAt, type Session, type SessionLifetimes } from "./session.js";
import type { SessionCache, SessionInvalidation } from "./session-cache.js";
import type { SessionStore } from "./session-store.js";
import { noMetrics, type Metrics } from "../metrics/metrics.js";

/** Where a session was opened from. */
export interface SessionOrigin {
  ip: string;
  userAgent: string;
  /** The request id, carried into audit events. */
  requestId?: string;
}

/** A freshly issued session and the token to put in the cookie (the only place it ever exists). */
export interface IssuedSession {
  token: string;
  session: Session;
}

/** A valid session and its user. */
export interface ValidSession {
  session: Session;
  user: User;
}

/** Dependencies of {@link createSessionService}. */
export interface SessionServiceDeps {
  store: SessionStore;
  cache: SessionCache;
  clock: Clock;
  random: Random;
  lifetimes: SessionLifetimes;
  /** How long a cached lookup is trusted before it is re-read from the store (default 5 s, FWD-06). */
  cacheTtlMs?: number;
  /** Counts cache hits and misses (default: nothing). */
  metrics?: Metrics;
}

/** How {@link SessionService.rotate} changes the session it replaces. */
export interface RotateOptions {
  renew?: boolean;
  reauthenticated?: boolean;
  /** The methods the new session records instead of the old one's (a step-up adds a second factor). */
  methods?: readonly [AuthMethod, ...AuthMethod[]];
}

/** Session lifecycle: issue, validate, rotate, list and revoke. */
export interface SessionService {
  /**
   * Issues a brand-new session (never reuses a presented token: no fixation),
   * recording the methods that proved the user and the assurance they give.
   */
  create(userId: string, origin: SessionOrigin, remember: boolean, methods: readonly [AuthMethod, ...AuthMethod[]]): Promise<IssuedSession>;
  /**
   * The session for a cookie token, or null if unknown, expired or its user is blocked.
   * `maxAgeMs` re-reads the store when the cached lookup is older than that
   * (default: the cache TTL); open WebSockets are re-checked with a short one.
   */
  validate(token: string, options?: { maxAgeMs?: number }): Promise<ValidSession | null>;
  /**
   * The synchronous fast path of {@link SessionService.validate} for the
   * per-request check: the answer when a cached lookup younger than the cache
   * TTL, or else the store's synchronous read (`findWithUserNow`, SQLite),
   * settles it with no write (a valid session not due for a last-seen write,
   * an unknown or malformed token: null); `undefined` when `validate` must
   * run. Never answers differently from `validate`.
   */
  validateCached(token: string): ValidSession | null | undefined;
  /**
   * Replaces a session by a new one with a new token; the old token dies.
   * The assurance and methods carry over, and so does the absolute expiry (a rotation never extends a session,
   * SESS-07) unless `renew` is set (a password change starts a new session
   * lifetime). `reauthenticated` marks the new session as freshly
   * re-authenticated (sudo, SESS-04: a new token at every step-up).
   * `methods` replaces the recorded methods (and so the assurance): only a
   * server flow that has just checked a factor passes them (a step-up).
   */
  rotate(session: Session, origin: SessionOrigin, options?: RotateOptions): Promise<IssuedSession>;
  /** Ends the session of this token, if any. */
  revokeToken(token: string): Promise<void>;
  /** Ends one of the user's sessions by id; false if it is not theirs. */
  revokeById(userId: string, sessionId: string): Promise<boolean>;
  /** Ends all of a user's sessions but `exceptId`; returns how many ended. */
  revokeAllForUser(userId: string, exceptId?: string): Promise<number>;
  /** Drops every cached lookup (after a database restore). */
  forgetAll(): void;
  /** Drops cached lookups of a user after their record changed. */
  forgetUser(userId: string): void;
  /**
   * Calls `listener` whenever cached lookups are dropped by a revocation or a
   * change of a user: made in this process or, with a revocation bus
   * (src/core/sessions/revocation-bus.ts), on another instance. Open proxied
   * WebSockets are re-checked from it. Returns the function that removes it.
   */
  onInvalidate(listener: (invalidation: SessionInvalidation) => void): () => void;
  list(userId: string, limit: number, offset: number): Promise<Session[]>;
  /** Deletes expired sessions from the store. */
  purgeExpired(): Promise<number>;
}

/** Creates the {@link SessionService}. */
export function createSessionService(deps: SessionServiceDeps): SessionService {
  const { store, cache, clock, random, lifetimes } = deps;
  const cacheTtlMs = deps.cacheTtlMs ?? 5_000;
  const metrics = deps.metrics ?? noMetrics;

  async function create(
    userId: string,
    origin: SessionOrigin,
    remember: boolean,
    methods: readonly AuthMethod[],
    expiresAt?: number,
    reauthAt?: number | null,
  ): Promise<IssuedSession> {
    const now = clock.now();
    const token = generateToken(random);
    const session: Session = {
      id: random.uuid(),
      tokenHash: hashToken(token),
      userId,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: expiresAt ?? now + (remember ? lifetimes.rememberMs : lifetimes.absoluteMs),
      remember,
      ip: origin.ip,
      userAgent: origin.userAgent.slice(0, 512),
      reauthAt: reauthAt === undefined ? now : reauthAt,
      aal: assuranceOf(methods),
      amr: [...methods],
    };
    await store.insert(session);
    await enforceCap(userId, session.id);
    return { token, session };
  }

  /** Signs out the oldest sessions beyond the cap, never the one just issued. */
  async function enforceCap(userId: string, keepId: string): Promise<void> {
    const others = (await store.listForUser(userId, lifetimes.maxPerUser + 50, 0)).filter((s) => s.id !== keepId);
    for (const old of others.slice(lifetimes.maxPerUser - 1)) {
      await store.delete(old.id);
      cache.deleteSession(old.tokenHash);
    }
  }

  async function validate(token: string, options: { maxAgeMs?: number } = {}): Promise<ValidSession | null> {
    if (!isWellFormedToken(token)) return null;
    const tokenHash = hashToken(token);
    const now = clock.now();
    let found = cache.get(tokenHash);
    const hit = found !== undefined && now - (found.loadedAt ?? 0) <= Math.min(cacheTtlMs, options.maxAgeMs ?? cacheTtlMs);
    metrics.cacheLookup(hit);
    if (!found || !hit) {
      const generation = cache.generation();
      const row = await store.findWithUser(tokenHash);
      if (!row) {
        // Found dead here, not revoked here: a local clean-up, never announced to other instances.
        cache.evict(tokenHash);
        return null;
      }
      found = { ...row, loadedAt: now };
      if (cache.generation() === generation) cache.set(tokenHash, found);
    }
    if (sessionEndsAt(found.session, lifetimes, found.user.role) <= now) {
      // Every instance sees the expiry by itself.
      cache.evict(tokenHash);
      await store.delete(found.session.id);
      return null;
    }
    if (found.user.blocked) return null;
    if (now - found.session.lastSeenAt >= lifetimes.touchIntervalMs) {
      const generation = cache.generation();
      await store.touch(found.session.id, now);
      found = { ...found, session: { ...found.session, lastSeenAt: now } };
      if (cache.generation() === generation) cache.set(tokenHash, found);
    }
    return { session: found.session, user: found.user };
  }

  function validateCached(token: string): ValidSession | null | undefined {
    if (!isWellFormedToken(token)) return null;
    const tokenHash = hashToken(token);
    const now = clock.now();
    let found = cache.get(tokenHash);
    // Counted only when this answer stands: an `undefined` hands the lookup to `validate`, which counts it.
    let hit = true;
    if (!found || now - (found.loadedAt ?? 0) > cacheTtlMs) {
      // A store that reads synchronously (SQLite) answers a cache miss here too, with no promise.
      const row = readNow(tokenHash);
      if (row === undefined) return undefined;
      hit = false;
      if (row === null) {
        metrics.cacheLookup(false);
        cache.evict(tokenHash);
        return null;
      }
      found = { session: row.session, user: row.user, loadedAt: now };
      cache.set(tokenHash, found);
    }
    // Expiry (a delete) and a due last-seen write (an update) are left to `validate`.
    if (sessionEndsAt(found.session, lifetimes, found.user.role) <= now) return undefined;
    if (now - found.session.lastSeenAt >= lifetimes.touchIntervalMs && !found.user.blocked) return undefined;
    metrics.cacheLookup(hit);
    if (found.user.blocked) return null;
    return { session: found.session, user: found.user };
  }

  /** The store's synchronous lookup, or undefined when it has none, cannot answer now, or fails (`validate` then reports the failure). */
  function readNow(tokenHash: string): ValidSession | null | undefined {
    if (store.findWithUserNow === undefined) return undefined;
    try {
      return store.findWithUserNow(tokenHash);
    } catch {
      return undefined;
    }
  }

  async function rotate(
    session: Session,
    origin: SessionOrigin,
    options: RotateOptions = {},
  ): Promise<IssuedSession> {
    const reauthAt = options.reauthenticated ? clock.now() : session.reauthAt;
    const issued = await create(session.userId, origin, session.remember, options.methods ?? session.amr, options.renew ? undefined : session.expiresAt, reauthAt);
    await store.delete(session.id);
    cache.deleteSession(session.tokenHash);
    return issued;
  }

  return {
    create,
    validate,
    validateCached,
    rotate,
    async revokeToken(token) {
      if (!isWellFormedToken(token)) return;
      const tokenHash = hashToken(token);
      const row = cache.get(tokenHash) ?? (await store.findWithUser(tokenHash));
      // Dropped here at once; announced (deleteSession) only once the row is gone, so another
      // instance that re-reads the store on the announcement cannot find the session still there.
      cache.evict(tokenHash);
      if (row) await store.delete(row.session.id);
      cache.deleteSession(tokenHash);
    },
    async revokeById(userId, sessionId) {
      const deleted = await store.delete(sessionId, userId);
      if (deleted) cache.deleteUser(userId);
      return deleted;
    },
    async revokeAllForUser(userId, exceptId) {
      const ids = await store.deleteAllForUser(userId, exceptId);
      cache.deleteUser(userId);
      return ids.length;
    },
    forgetUser: (userId) => cache.deleteUser(userId),
    forgetAll: () => cache.clear(),
    onInvalidate: (listener) => cache.onInvalidate(listener),
    list: (userId, limit, offset) => store.listForUser(userId, limit, offset),
    purgeExpired: () => store.deleteExpired(clock.now(), lifetimes.idleMs),
  };
}
