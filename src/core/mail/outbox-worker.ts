import type { Clock } from "../clock.js";
import { noMetrics, type Metrics } from "../metrics/metrics.js";
import type { Random } from "../random.js";
import type { MailSealer } from "./mail-sealer.js";
import type { MailTransport } from "./mail-transport.js";
import type { ClaimedMail, OutboxStore } from "./outbox-store.js";

/** The pino-compatible subset the worker logs through. */
export interface MailLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Retry policy of the outbox. */
export interface OutboxPolicy {
  /** How long a claim lasts before another worker may retry the row (must exceed a send's timeout). */
  leaseMs: number;
  /** Attempts before a mail is given up. */
  maxAttempts: number;
  /** Delay after the first failure; doubled after each further one. */
  baseDelayMs: number;
  /** Longest delay between two attempts. */
  maxDelayMs: number;
  /** Sent and given-up rows are deleted this long after they were written. */
  retentionMs: number;
}

/** The defaults: 8 attempts over about an hour (30 s, 1, 2, 4, 8, 16, 32 min), 2 min leases. */
export const defaultOutboxPolicy: OutboxPolicy = {
  leaseMs: 2 * 60_000,
  maxAttempts: 8,
  baseDelayMs: 30_000,
  maxDelayMs: 32 * 60_000,
  retentionMs: 7 * 86_400_000,
};

/** Sends outbox rows with retries and backoff. */
export interface OutboxWorker {
  /** Sends every due row (claiming each first); resolves with how many were delivered. */
  runOnce(): Promise<number>;
  /** Polls every `intervalMs` (real time) until {@link stop}. */
  start(intervalMs: number): void;
  /** Asks for a run soon (a mail was just written). */
  kick(): void;
  /** Stops polling and waits for a run in progress. */
  stop(): Promise<void>;
}

/** The delay before attempt `attempts + 1`, after `attempts` failures (≥ 1). */
export function backoffDelay(policy: OutboxPolicy, attempts: number): number {
  return Math.min(policy.baseDelayMs * 2 ** Math.max(0, attempts - 1), policy.maxDelayMs);
}

/** A failure as it may be logged: the error's class and code, never a message body or link. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return "unknown error";
  const e = err as Error & { code?: unknown; responseCode?: unknown; command?: unknown };
  const parts = [e.name];
  if (typeof e.code === "string") parts.push(e.code);
  if (typeof e.responseCode === "number") parts.push(String(e.responseCode));
  if (typeof e.command === "string") parts.push(e.command.split(" ")[0] ?? "");
  return parts.join(" ").slice(0, 200);
}

/**
 * Creates the outbox worker. Each row is claimed with a lease before it is
 * sent and marked sent (payload blanked) once the transport accepted it, so
 * a crash before the send loses nothing, and a row is sent again only if the
 * process died in the instant between the server's acceptance and the mark
 * (the Message-ID stays the same, so such a duplicate is recognisable).
 * Failures are logged with the row id and the error class, never the mail.
 */
export function createOutboxWorker(deps: {
  store: OutboxStore;
  transport: MailTransport;
  sealer: MailSealer;
  clock: Clock;
  random: Random;
  log: MailLog;
  /** Domain of Message-IDs (the PUBLIC_URL host). */
  messageIdDomain: string;
  policy?: OutboxPolicy;
  /** Counts failed delivery attempts (default: nothing). */
  metrics?: Metrics;
}): OutboxWorker {
  const { store, transport, sealer, clock, log, messageIdDomain } = deps;
  const metrics = deps.metrics ?? noMetrics;
  const policy = deps.policy ?? defaultOutboxPolicy;
  const owner = deps.random.uuid();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let again = false;
  let lastPurge = 0;

  async function sendOne(row: ClaimedMail): Promise<boolean> {
    const attempt = row.attempts + 1;
    try {
      const message = sealer.open(row.id, row.payload);
      await transport.send({ ...message, messageId: `<${row.id}@${messageIdDomain}>`, kind: row.kind });
    } catch (err) {
      const error = describeError(err);
      const giveUp = attempt >= policy.maxAttempts;
      metrics.outboxFailure(giveUp);
      const next = giveUp ? null : clock.now() + backoffDelay(policy, attempt);
      await store.markFailed(row.id, owner, next, error);
      const fields = { outboxId: row.id, kind: row.kind, attempt, error, transport: transport.description };
      if (giveUp) log.error(fields, "mail could not be sent; giving up");
      else log.warn({ ...fields, retryAt: new Date(next as number).toISOString() }, "mail could not be sent; will retry");
      return false;
    }
    await store.markSent(row.id, owner, clock.now());
    log.info({ outboxId: row.id, kind: row.kind, attempt, transport: transport.description }, "mail sent");
    return true;
  }

  async function drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const now = clock.now();
      if (now - lastPurge > 3_600_000) {
        lastPurge = now;
        await store.purge(now - policy.retentionMs);
      }
      const rows = await store.claimDue(owner, now, policy.leaseMs, 10);
      if (rows.length === 0) return delivered;
      for (const row of rows) if (await sendOne(row)) delivered++;
    }
  }

  function runOnce(): Promise<number> {
    if (running) {
      // A run is in progress: run once more after it, so rows written meanwhile are seen.
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        total += await drain();
      } while (again);
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  function safeRun(): void {
    runOnce().catch((err: unknown) => log.error({ error: describeError(err) }, "outbox run failed"));
  }

  return {
    runOnce,
    start(intervalMs) {
      if (timer) return;
      timer = setInterval(safeRun, intervalMs);
      timer.unref();
    },
    kick() {
      if (timer) setImmediate(safeRun);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}
