import type { ClientKey } from "../rate-limit/client-key.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken } from "../crypto/tokens.js";
import type { Random } from "../random.js";
import type { LimiterStore } from "../rate-limit/limiter-store.js";
import type { EmailTokenPurpose, EmailTokenStore } from "./email-token-store.js";
import type { MailKind } from "./mail-message.js";
import type { MailSealer } from "./mail-sealer.js";
import { buildLink, LINK_PATHS, renderMail, type MailBranding } from "./mail-templates.js";
import type { MailLog } from "./outbox-worker.js";
import type { NewOutboxMail, OutboxStore } from "./outbox-store.js";

/** RL-05: mails a single account or IP may cause. */
export interface MailQuota {
  perAccount: { limit: number; windowMs: number };
  perIp: { limit: number; windowMs: number };
}

/** 3 per 15 minutes per account, 20 per hour per IP (RL-05). */
export const defaultMailQuota: MailQuota = {
  perAccount: { limit: 3, windowMs: 15 * 60_000 },
  perIp: { limit: 20, windowMs: 60 * 60_000 },
};

/** Token lifetimes: 60 min for a reset (RST-02), 24 h for a verification (RST-07), 7 days for the first password of an admin-made account. */
export const TOKEN_LIFETIMES: Record<EmailTokenPurpose, number> = {
  password_reset: 60 * 60_000,
  set_password: 7 * 86_400_000,
  verify_email: 24 * 3_600_000,
  email_change: 24 * 3_600_000,
};

const KIND_OF: Record<EmailTokenPurpose, keyof typeof LINK_PATHS> = {
  password_reset: "password_reset",
  verify_email: "verify_email",
  email_change: "email_change_verify",
  set_password: "set_password",
};

/**
 * The shared machinery of every mail-sending flow: rendering, sealing, the
 * durable outbox, the RL-05 quota and background work (so an answer never
 * waits for, or reveals, what was mailed).
 */
export interface Mailer {
  /** False when no transport is configured (production without SMTP_URL): nothing is queued. */
  readonly enabled: boolean;
  /**
   * Counts one mail toward the account's and the IP's quota; false when
   * either is used up (the caller then sends nothing and answers as usual).
   */
  allow(accountKey: string, ip: string): Promise<boolean>;
  /**
   * Issues a token for `purpose` and writes its mail (plus `extra` mails) in
   * one transaction; older tokens of the user and purpose die. Returns the
   * outbox ids.
   */
  issueToken(purpose: EmailTokenPurpose, user: { id: string }, to: { email: string; emailNormalized: string }, extra?: { kind: MailKind; to: string }[]): Promise<string[]>;
  /**
   * Renders (and seals) a mail whose link carries `token` in its fragment,
   * without writing it: the caller stores it in the same transaction as the
   * token's record, then calls {@link queued}.
   */
  linkMail(kind: keyof typeof LINK_PATHS, to: string, token: string): NewOutboxMail;
  /** The link of `kind` carrying `token` (built from `PUBLIC_URL` alone, the token in the fragment). */
  link(kind: keyof typeof LINK_PATHS, token: string): string;
  /** Tells the worker that mails were written. */
  queued(): void;
  /** Writes a mail that carries no token. */
  notify(kind: MailKind, to: string): Promise<string>;
  /**
   * Runs `task` after the answer (from the next turn of the event loop, so
   * its database work never delays the response), logging (never throwing)
   * a failure; {@link idle} waits for it.
   */
  background(label: string, task: () => Promise<void>): void;
  /** Resolves when no background task is running. */
  idle(): Promise<void>;
}

/** Creates the {@link Mailer}. `onQueued` is told when a mail was written (to kick the worker). */
export function createMailer(deps: {
  enabled: boolean;
  tokens: EmailTokenStore;
  outbox: OutboxStore;
  sealer: MailSealer;
  limiter: LimiterStore;
  branding: MailBranding;
  clock: Clock;
  random: Random;
  log: MailLog;
  quota?: MailQuota;
  /** Who is one client for the per-IP quota (an IPv6 network, by default its /64); the address itself when absent. */
  clientKey?: ClientKey;
  onQueued?: () => void;
}): Mailer {
  const { tokens, outbox, sealer, limiter, branding, clock, random, log } = deps;
  const quota = deps.quota ?? defaultMailQuota;
  const tasks = new Set<Promise<void>>();

  function compose(kind: MailKind, to: string, link?: string): NewOutboxMail {
    const id = random.uuid();
    return { id, kind, payload: sealer.seal(id, renderMail(kind, to, branding, link)), createdAt: clock.now() };
  }

  return {
    enabled: deps.enabled,

    async allow(accountKey, ip) {
      const now = clock.now();
      const byIp = await limiter.hit(`mail:ip:${deps.clientKey ? deps.clientKey(ip) : ip}`, quota.perIp.windowMs, now);
      if (byIp > quota.perIp.limit) return false;
      const byAccount = await limiter.hit(`mail:acct:${accountKey}`, quota.perAccount.windowMs, now);
      return byAccount <= quota.perAccount.limit;
    },

    async issueToken(purpose, user, to, extra = []) {
      const token = generateToken(random);
      const now = clock.now();
      const kind = KIND_OF[purpose];
      const main = compose(kind, to.email, buildLink(branding.publicUrl, LINK_PATHS[kind], token));
      const others = extra.map((m) => compose(m.kind, m.to));
      await tokens.issue(
        { tokenHash: hashToken(token), purpose, userId: user.id, email: to.email, emailNormalized: to.emailNormalized, createdAt: now, expiresAt: now + TOKEN_LIFETIMES[purpose] },
        [main, ...others],
      );
      deps.onQueued?.();
      return [main.id, ...others.map((m) => m.id)];
    },

    linkMail(kind, to, token) {
      return compose(kind, to, buildLink(branding.publicUrl, LINK_PATHS[kind], token));
    },

    link(kind, token) {
      return buildLink(branding.publicUrl, LINK_PATHS[kind], token);
    },

    queued() {
      deps.onQueued?.();
    },

    async notify(kind, to) {
      const mail = compose(kind, to);
      await outbox.enqueue(mail);
      deps.onQueued?.();
      return mail.id;
    },

    background(label, task) {
      // Start only after the current answer went out: on SQLite the queries run on the
      // event loop, and work done before the reply is written would show in its timing.
      const run = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .catch((err: unknown) => log.error({ task: label, error: err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : "unknown" }, "background mail task failed"))
        .finally(() => tasks.delete(run));
      tasks.add(run);
    },

    async idle() {
      while (tasks.size > 0) await Promise.all([...tasks]);
    },
  };
}
