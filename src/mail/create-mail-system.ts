import { join, relative } from "node:path";
import type { Config } from "../config/config.js";
import type { Clock } from "../core/clock.js";
import { deriveKey } from "../core/crypto/derive-key.js";
import type { SecretBox } from "../core/secrets/secret-box.js";
import type { EmailTokenStore } from "../core/mail/email-token-store.js";
import { createMailSealer } from "../core/mail/mail-sealer.js";
import type { MailTransport } from "../core/mail/mail-transport.js";
import { createMailer, type Mailer, type MailQuota } from "../core/mail/mailer.js";
import type { OutboxStore } from "../core/mail/outbox-store.js";
import { createOutboxWorker, type MailLog, type OutboxPolicy, type OutboxWorker } from "../core/mail/outbox-worker.js";
import type { Metrics } from "../core/metrics/metrics.js";
import type { Random } from "../core/random.js";
import { createClientKey } from "../core/rate-limit/client-key.js";
import type { LimiterStore } from "../core/rate-limit/limiter-store.js";
import { createFileTransport } from "./file-transport.js";
import { createSmtpTransport } from "./smtp-transport.js";

/** Mail: the outbox, its worker and transport, and the {@link Mailer} the flows use. */
export interface MailSystem {
  mailer: Mailer;
  tokens: EmailTokenStore;
  outbox: OutboxStore;
  /** Null when mail is disabled (production without SMTP_URL). */
  worker: OutboxWorker | null;
  /** Starts the worker's polling (the composition calls it when the app starts; a built-but-never-started app polls nothing). */
  start(): void;
  /** Waits for background mail tasks, then sends everything due; resolves with how many were delivered. */
  flush(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link createMailSystem}; tests may pass a transport and a policy. */
export interface MailSystemOptions {
  config: Config;
  /** The email-token and outbox stores (from the composition's `Stores`). */
  stores: { emailTokens: EmailTokenStore; outbox: OutboxStore };
  limiter: LimiterStore;
  clock: Clock;
  random: Random;
  /** Seals queued mail under the keyring (src/core/secrets). */
  secretBox: SecretBox;
  log: MailLog;
  transport?: MailTransport;
  policy?: OutboxPolicy;
  quota?: MailQuota;
  /** Real-time polling interval of the worker (default 5 s); 0 disables polling (sends happen on kick and flush). */
  pollMs?: number;
  /** Counts failed deliveries (default: nothing). */
  metrics?: Metrics;
}

/**
 * Wires mail: SMTP when `SMTP_URL` is set; otherwise, outside production,
 * `.eml` files in `<data dir>/outbox/` (said once at start); in production
 * without `SMTP_URL` mail is disabled and said so loudly, since writing
 * live reset links to disk would be worse than sending none.
 */
export function createMailSystem(options: MailSystemOptions): MailSystem {
  const { config, limiter, clock, random, log } = options;
  const { emailTokens: tokens, outbox } = options.stores;
  const from = config.mailFrom ?? `Gatehouse <no-reply@${new URL(config.publicUrl).hostname}>`;
  let transport: MailTransport | null = options.transport ?? null;
  if (transport === null && config.smtpUrl !== null) transport = createSmtpTransport({ url: config.smtpUrl, from });
  if (transport === null && config.env !== "production") {
    const dir = join(config.dataDir, "outbox");
    transport = createFileTransport({
      dir,
      from,
      now: () => clock.now(),
      onWritten: (file) => log.info({ file: relative(process.cwd(), file) || file }, "mail written to a file (no SMTP_URL; development only)"),
    });
    log.info({ dir }, "SMTP_URL is not set: mails are written as .eml files to the outbox directory, not sent");
  }
  if (transport === null) {
    log.warn({}, "SMTP_URL is not set: mail is disabled; password reset, email verification and email change send nothing");
  } else if (config.smtpUrl !== null) {
    log.info({ transport: transport.description }, "mail is sent over SMTP");
  }
  // Envelopes under the keyring; the SECRET_KEY-derived key of earlier versions only opens mail they queued.
  const sealer = createMailSealer(options.secretBox, deriveKey(config.secretKey, "mail-outbox"));
  const worker = transport
    ? createOutboxWorker({
        store: outbox,
        transport,
        sealer,
        clock,
        random,
        log,
        messageIdDomain: new URL(config.publicUrl).hostname,
        ...(options.policy ? { policy: options.policy } : {}),
        ...(options.metrics ? { metrics: options.metrics } : {}),
      })
    : null;
  const mailer = createMailer({
    enabled: worker !== null,
    tokens,
    outbox,
    sealer,
    limiter,
    branding: { productName: config.mailProductName ?? "Gatehouse", publicUrl: config.publicUrl },
    clock,
    random,
    log,
    ...(options.quota ? { quota: options.quota } : {}),
    clientKey: createClientKey(config.protection.ipv6PrefixLength),
    onQueued: () => worker?.kick(),
  });
  const pollMs = options.pollMs ?? 5_000;
  return {
    mailer,
    tokens,
    outbox,
    worker,
    start() {
      if (worker && pollMs > 0) worker.start(pollMs);
    },
    async flush() {
      await mailer.idle();
      return worker ? worker.runOnce() : 0;
    },
    async close() {
      await mailer.idle();
      await worker?.stop();
      transport?.close();
    },
  };
}
