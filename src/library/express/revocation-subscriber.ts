import { Redis } from "ioredis";
import { revocationChannel } from "../../storage/redis/redis-revocation-bus.js";

/** A subscription to Gatehouse's revocation channel; see {@link subscribeToRevocations}. */
export interface RevocationSubscriber {
  /** Whether the subscription is established right now (notices are being received). */
  subscribed(): boolean;
  /** Resolves once subscribed the first time (or after `timeoutMs`, still retrying). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Options of {@link subscribeToRevocations}. */
export interface RevocationSubscriberOptions {
  /** The Redis of the Gatehouse deployment (its `REDIS_URL`). */
  redisUrl: string;
  /** The deployment's Redis key prefix (default `gatehouse:`, which Gatehouse always uses; embedded test instances may use another): the channel is `<prefix>revocations`. */
  prefix?: string;
  /** Called on every notice, and whenever the subscription is lost or (re)established (notices may have been missed). */
  onInvalidate(): void;
  onError?(err: unknown): void;
}

/**
 * Subscribes (ioredis, a connection of its own) to the channel Gatehouse's
 * instances publish every sign-out, revocation, block, role or password change
 * on. The message itself is not interpreted: any message on the channel, a
 * lost connection and every (re)subscription call `onInvalidate`.
 */
export function subscribeToRevocations(options: RevocationSubscriberOptions): RevocationSubscriber {
  const channel = revocationChannel(options.prefix);
  const sub = new Redis(options.redisUrl, { autoResubscribe: false, lazyConnect: true, maxRetriesPerRequest: null, connectionName: "gatehouse-express-revocations" });
  let closed = false;
  let isSubscribed = false;
  const waiters = new Set<() => void>();

  sub.on("error", (err: unknown) => {
    if (!closed) options.onError?.(err);
  });
  sub.on("message", (from: string) => {
    if (from === channel) options.onInvalidate();
  });
  sub.on("close", () => {
    if (!isSubscribed) return;
    isSubscribed = false;
    options.onInvalidate();
  });
  sub.on("ready", () => {
    sub.subscribe(channel).then(
      () => {
        if (closed) return;
        isSubscribed = true;
        options.onInvalidate();
        for (const w of waiters) w();
        waiters.clear();
      },
      (err: unknown) => options.onError?.(err),
    );
  });
  sub.connect().catch(() => {
    // Reported through "error"; ioredis keeps retrying.
  });

  return {
    subscribed: () => isSubscribed && !closed,
    ready(timeoutMs) {
      if (isSubscribed) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.add(done);
      });
    },
    async close() {
      closed = true;
      isSubscribed = false;
      sub.disconnect();
      await Promise.resolve();
    },
  };
}
