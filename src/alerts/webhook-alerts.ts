import { ALERT_EVENT_TYPES, type AuditSink } from "../core/audit/audit-log.js";
import type { AuditEvent } from "../core/audit/audit-event.js";

/** Options of {@link createWebhookAlerts}. */
export interface WebhookAlertOptions {
  url: string;
  /** Per-attempt timeout (default 5 s). */
  timeoutMs?: number;
  /** Delays between attempts (default 1 s, 5 s, 30 s: four attempts in all). */
  retryDelaysMs?: number[];
  /** Most alerts waiting to be sent; older ones are dropped beyond it (default 1000). */
  maxQueue?: number;
  onError?: (err: unknown, event: AuditEvent) => void;
  fetch?: typeof fetch;
}

/**
 * An {@link AuditSink} that POSTs `account_locked`, `ip_banned` and
 * `suspicious_activity` events as JSON to an operator-configured webhook.
 * Sending is asynchronous, with retries and a timeout, and never blocks or
 * fails the request that caused the event; redirects are not followed.
 */
export function createWebhookAlerts(options: WebhookAlertOptions): AuditSink & { idle(): Promise<void> } {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const delays = options.retryDelaysMs ?? [1_000, 5_000, 30_000];
  const maxQueue = options.maxQueue ?? 1_000;
  const doFetch = options.fetch ?? fetch;
  let pending = 0;
  let waiters: (() => void)[] = [];

  async function send(event: AuditEvent): Promise<void> {
    const body = JSON.stringify({ source: "gatehouse", event: { ...event, at: new Date(event.at).toISOString() } });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await doFetch(options.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.ok) return;
        throw new Error(`webhook answered ${res.status}`);
      } catch (err) {
        const delay = delays[attempt];
        if (delay === undefined) throw err;
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  const sink = (event: AuditEvent) => {
    if (!ALERT_EVENT_TYPES.has(event.type) || pending >= maxQueue) return;
    pending++;
    send(event)
      .catch((err: unknown) => options.onError?.(err, event))
      .finally(() => {
        pending--;
        if (pending === 0) {
          for (const w of waiters) w();
          waiters = [];
        }
      });
  };
  return Object.assign(sink, {
    /** Resolves when no alert is in flight (tests, shutdown). */
    idle: () => (pending === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  });
}
