import type { WebSocket } from "ws";
import type { AccessGate, AccessRequest } from "../../core/gateway/access-decision.js";
import { hashToken } from "../../core/crypto/tokens.js";
import type { SessionInvalidation } from "../../core/sessions/session-cache.js";
import type { SessionService, ValidSession } from "../../core/sessions/session-service.js";

/** One proxied WebSocket: both ends, and what it was authorized as. */
export interface OpenSocket {
  client: WebSocket;
  upstream: WebSocket;
  request: AccessRequest;
  /** The session cookie it was opened with, or null for an anonymous socket on a bypass rule. */
  sessionToken: string | null;
}

/** Dependencies of {@link createOpenSockets}. */
export interface OpenSocketsDeps {
  sessions: Pick<SessionService, "validate" | "onInvalidate">;
  gate: Pick<AccessGate, "decide">;
  /** How often every open socket is re-authorized (default 500 ms). */
  intervalMs?: number;
  /** The oldest session lookup a re-check trusts; older ones are re-read from the store (default 500 ms). */
  maxAgeMs?: number;
  onError?(err: unknown): void;
}

/** The registry of open proxied WebSockets, re-authorized on a timer. */
export interface OpenSockets {
  add(socket: OpenSocket): void;
  /** Re-authorizes every open socket now; closes those no longer allowed. Resolves when done. */
  recheck(): Promise<void>;
  size(): number;
  /** Closes every socket and stops the timer. */
  closeAll(): void;
}

/** Close code 1008: policy violation (RFC 6455 §7.4.1). */
const POLICY_VIOLATION = 1008;
/** Close code 1011: the server cannot decide (the session store is down): fail closed. */
const SERVER_ERROR = 1011;

function closeBoth(s: OpenSocket, code: number, reason: string): void {
  if (s.client.readyState === s.client.OPEN || s.client.readyState === s.client.CONNECTING) s.client.close(code, reason);
  if (s.upstream.readyState === s.upstream.OPEN || s.upstream.readyState === s.upstream.CONNECTING) s.upstream.close(1001, "client disconnected");
  // A peer that ignores the close handshake is cut off shortly after.
  setTimeout(() => {
    s.client.terminate();
    s.upstream.terminate();
  }, 1_000).unref();
}

/** What a socket's session is known as, to find the sockets a revocation concerns. */
interface Identity {
  tokenHash: string | null;
  /** The user, once a check has seen the session (null before: any user revocation re-checks it). */
  userId: string | null;
}

/**
 * Keeps open WebSockets under the rules: every `intervalMs` each socket's
 * session is looked up again (through the session service: a revocation,
 * block or role change drops the cache entry at once; anything older than
 * `maxAgeMs` is re-read from the store) and the request is decided again.
 * Besides the timer, every cache invalidation (made in this process or,
 * with a revocation bus, received from another instance) re-checks at once
 * the sockets it concerns. A socket whose user was signed out, blocked or
 * demoted below the rule is closed with 1008; a failing lookup closes it with 1011.
 */
export function createOpenSockets(deps: OpenSocketsDeps): OpenSockets {
  const intervalMs = deps.intervalMs ?? 500;
  const maxAgeMs = deps.maxAgeMs ?? 500;
  const open = new Map<OpenSocket, Identity>();
  let timer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  let running: Promise<void> | null = null;

  function stopIfIdle(): void {
    if (open.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    if (open.size === 0 && unsubscribe !== null) {
      unsubscribe();
      unsubscribe = null;
    }
  }

  async function check(s: OpenSocket, lookup: (token: string) => Promise<ValidSession | null>): Promise<void> {
    let signedIn: ValidSession | null = null;
    if (s.sessionToken !== null) {
      signedIn = await lookup(s.sessionToken);
      if (signedIn === null) return closeBoth(s, POLICY_VIOLATION, "session ended");
      const identity = open.get(s);
      if (identity) identity.userId = signedIn.user.id;
    }
    const decision = deps.gate.decide(s.request, signedIn);
    if (decision.kind !== "allow") closeBoth(s, POLICY_VIOLATION, "access revoked");
  }

  async function checkSockets(sockets: readonly OpenSocket[]): Promise<void> {
    // One lookup per session, however many sockets share it.
    const lookups = new Map<string, Promise<ValidSession | null>>();
    const lookup = (token: string): Promise<ValidSession | null> => {
      let found = lookups.get(token);
      if (found === undefined) lookups.set(token, (found = deps.sessions.validate(token, { maxAgeMs })));
      return found;
    };
    await Promise.all(
      sockets.map((s) =>
        check(s, lookup).catch((err: unknown) => {
          deps.onError?.(err);
          closeBoth(s, SERVER_ERROR, "cannot verify access");
        }),
      ),
    );
  }

  /** The open sockets an invalidation concerns (a socket not checked yet counts for any user). */
  function concerned(invalidation: SessionInvalidation): OpenSocket[] {
    const found: OpenSocket[] = [];
    for (const [s, identity] of open) {
      if (identity.tokenHash === null) continue;
      if (invalidation.kind === "all") found.push(s);
      else if (invalidation.kind === "session" ? identity.tokenHash === invalidation.tokenHash : identity.userId === null || identity.userId === invalidation.userId) found.push(s);
    }
    return found;
  }

  function onInvalidate(invalidation: SessionInvalidation): void {
    const sockets = concerned(invalidation);
    if (sockets.length > 0) void checkSockets(sockets);
  }

  function recheck(): Promise<void> {
    running ??= checkSockets([...open.keys()]).finally(() => {
      running = null;
    });
    return running;
  }

  return {
    add(s) {
      open.set(s, { tokenHash: s.sessionToken === null ? null : hashToken(s.sessionToken), userId: null });
      unsubscribe ??= deps.sessions.onInvalidate(onInvalidate);
      const remove = (): void => {
        open.delete(s);
        stopIfIdle();
      };
      s.client.once("close", remove);
      s.upstream.once("close", remove);
      if (timer === null) {
        timer = setInterval(() => void recheck(), intervalMs);
        timer.unref();
      }
    },
    recheck,
    size: () => open.size,
    closeAll() {
      for (const s of open.keys()) closeBoth(s, 1001, "server shutting down");
      open.clear();
      stopIfIdle();
    },
  };
}
