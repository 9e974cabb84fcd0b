import { constants } from "node:os";

/** What a graceful shutdown acts on; injected so the sequence is testable without a process. */
export interface ShutdownDeps {
  /** Stops the server and releases everything (Gatehouse's `close()`: WebSockets 1001, HTTP drain, mail, hashing, DB, Redis). */
  close(): Promise<void>;
  /** The listening HTTP server: its idle keep-alive connections are ended while draining, every one at the deadline. */
  server: { closeIdleConnections(): void; closeAllConnections(): void };
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** How long in-flight requests may take (SHUTDOWN_TIMEOUT). */
  timeoutMs: number;
  exit(code: number): void;
  now?: () => number;
}

/** A signal repeated within this long is the same request: a terminal's Ctrl-C reaches npm and node, and npm forwards it again. */
export const REPEAT_WINDOW_MS = 1_000;
/** After the deadline cut the last connections, how long the rest of the close (DB, Redis) may take before a hard exit. */
export const CLOSE_GRACE_MS = 5_000;
/** While draining, how often connections that finished their request (keep-alive, now idle) are ended. */
const REAP_INTERVAL_MS = 50;

/**
 * Returns the SIGTERM/SIGINT handler. The first signal stops accepting
 * connections and lets in-flight requests finish: Node's `server.close()`
 * waits for every open connection, so keep-alive connections are ended as
 * soon as they go idle. At `timeoutMs` the connections still open are cut,
 * and the process exits 0 once the database and Redis are closed (1 if that
 * fails or takes longer than {@link CLOSE_GRACE_MS}). A second signal, more
 * than {@link REPEAT_WINDOW_MS} after the first, exits at once with 128 + the
 * signal's number.
 */
export function createGracefulShutdown(deps: ShutdownDeps): (signal: NodeJS.Signals) => void {
  const now = deps.now ?? Date.now;
  let startedAt: number | null = null;
  return (signal) => {
    if (startedAt !== null) {
      if (now() - startedAt < REPEAT_WINDOW_MS) return;
      deps.logger.warn({ signal }, "second signal: exiting at once");
      deps.exit(128 + (constants.signals[signal] ?? 0));
      return;
    }
    startedAt = now();
    deps.logger.info({ signal, timeoutMs: deps.timeoutMs }, "shutting down");
    const reaper = setInterval(() => deps.server.closeIdleConnections(), REAP_INTERVAL_MS);
    let hardExit: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => {
      deps.logger.warn({ timeoutMs: deps.timeoutMs }, "shutdown deadline passed: closing the connections still open");
      deps.server.closeAllConnections();
      hardExit = setTimeout(() => {
        deps.logger.error({ graceMs: CLOSE_GRACE_MS }, "shutdown did not finish after the deadline: exiting");
        deps.exit(1);
      }, CLOSE_GRACE_MS);
    }, deps.timeoutMs);
    const done = (code: number) => {
      clearInterval(reaper);
      clearTimeout(deadline);
      clearTimeout(hardExit);
      deps.exit(code);
    };
    deps.close().then(
      () => {
        deps.logger.info({ ms: Math.round(now() - (startedAt ?? now())) }, "shut down");
        done(0);
      },
      (err: unknown) => {
        deps.logger.error({ err }, "shutdown failed");
        done(1);
      },
    );
  };
}
