import type { SessionCache, SessionInvalidation } from "./session-cache.js";

/** What one instance tells the others to drop: one session, every session of a user, or everything. */
export type RevocationMessage = SessionInvalidation;

/** A {@link RevocationMessage} on the wire, with the random id of the instance that sent it. */
export interface RevocationNotice {
  from: string;
  message: RevocationMessage;
}

/**
 * Port: the channel every instance of a deployment listens on, so that a
 * session revoked on one instance leaves every instance's session cache at
 * once (Redis pub/sub, PostgreSQL LISTEN/NOTIFY). Delivery is at most once:
 * a notice sent while a subscriber is disconnected is lost, which is why
 * every (re)subscription is reported to {@link RevocationBus.onReconnect}.
 */
export interface RevocationBus {
  /** Sends a notice to every subscribed instance (this one included). Rejects when the channel is down. */
  publish(notice: RevocationNotice): Promise<void>;
  /** Calls `handler` for every notice received. */
  subscribe(handler: (notice: RevocationNotice) => void): void;
  /** Calls `handler` each time the subscription is (re)established, the first time included. */
  onReconnect(handler: () => void): void;
  /** Unsubscribes and closes the bus's own connection. */
  close(): Promise<void>;
}

const MAX_FIELD = 256;

/** The JSON text of a notice (well under PostgreSQL's 8,000-byte NOTIFY payload limit). */
export function encodeRevocationNotice(notice: RevocationNotice): string {
  return JSON.stringify(notice);
}

function field(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_FIELD;
}

/** The notice a text carries, or null when it is not a well-formed one (it is then ignored). */
export function parseRevocationNotice(text: string): RevocationNotice | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null) return null;
  const { from, message } = data as { from?: unknown; message?: unknown };
  if (!field(from) || typeof message !== "object" || message === null) return null;
  const m = message as { kind?: unknown; tokenHash?: unknown; userId?: unknown };
  if (m.kind === "session" && field(m.tokenHash)) return { from, message: { kind: "session", tokenHash: m.tokenHash } };
  if (m.kind === "user" && field(m.userId)) return { from, message: { kind: "user", userId: m.userId } };
  if (m.kind === "all") return { from, message: { kind: "all" } };
  return null;
}

/** Dependencies of {@link createPropagatingSessionCache}. */
export interface PropagatingSessionCacheDeps {
  /** The local cache. */
  cache: SessionCache;
  bus: RevocationBus;
  /** This instance's random id: notices it sent itself are dropped on receipt. */
  instanceId: string;
  /** A notice could not be sent (the others then re-read within the cache's re-read interval). */
  onPublishError(err: unknown, message: RevocationMessage): void;
  /** The subscription was (re)established and the whole local cache flushed. */
  onFlushed?(): void;
}

/** A {@link SessionCache} whose revocations are also published. */
export interface PropagatingSessionCache extends SessionCache {
  /** Resolves when every notice published so far is sent or has failed (before the bus is closed). */
  published(): Promise<void>;
}

/**
 * Decorates a {@link SessionCache} so that every revocation made here
 * (`deleteSession`, `deleteUser`, `clear`) is also published on the bus, and
 * every notice from another instance is applied to the local cache without
 * being published again. A (re)subscription flushes the whole local cache:
 * notices sent while it was down are lost. Local clean-ups (`evict`) stay local.
 */
export function createPropagatingSessionCache(deps: PropagatingSessionCacheDeps): PropagatingSessionCache {
  const { cache, bus, instanceId } = deps;
  const inFlight = new Set<Promise<void>>();

  function publish(message: RevocationMessage): void {
    const sent = bus.publish({ from: instanceId, message }).catch((err: unknown) => deps.onPublishError(err, message));
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  }

  bus.subscribe((notice) => {
    if (notice.from === instanceId) return;
    const m = notice.message;
    if (m.kind === "session") cache.deleteSession(m.tokenHash);
    else if (m.kind === "user") cache.deleteUser(m.userId);
    else cache.clear();
  });
  bus.onReconnect(() => {
    cache.clear();
    deps.onFlushed?.();
  });

  return {
    get: (tokenHash) => cache.get(tokenHash),
    set: (tokenHash, entry) => cache.set(tokenHash, entry),
    evict: (tokenHash) => cache.evict(tokenHash),
    deleteSession(tokenHash) {
      cache.deleteSession(tokenHash);
      publish({ kind: "session", tokenHash });
    },
    deleteUser(userId) {
      cache.deleteUser(userId);
      publish({ kind: "user", userId });
    },
    clear() {
      cache.clear();
      publish({ kind: "all" });
    },
    onInvalidate: (listener) => cache.onInvalidate(listener),
    size: () => cache.size(),
    generation: () => cache.generation(),
    published: async () => void (await Promise.all([...inFlight])),
  };
}
