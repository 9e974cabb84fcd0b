import type { Redis } from "ioredis";
import { encodeRevocationNotice, type RevocationBus } from "../../core/sessions/revocation-bus.js";
import { createRevocationListeners } from "../revocation-listeners.js";

/** The Redis pub/sub channel a deployment's instances publish revocations on: `<prefix>revocations` (default prefix `gatehouse:`). */
export function revocationChannel(prefix = "gatehouse:"): string {
  return `${prefix}revocations`;
}

/** Options of {@link openRedisRevocationBus}. */
export interface RedisRevocationBusOptions {
  /** The Redis key prefix of this deployment; the channel is `<prefix>revocations` (default prefix `gatehouse:`). */
  prefix?: string;
  /** The subscriber connection's client name (`CLIENT LIST`), e.g. with the instance id. */
  connectionName: string;
  /** How long to wait for the first subscription before going on (it keeps retrying; default 5 s). */
  readyTimeoutMs?: number;
  /** The subscriber connection dropped (notices are lost until it is back). */
  onDisconnect?(): void;
  onError(err: unknown): void;
}

/**
 * {@link RevocationBus} on Redis pub/sub. Notices are published on the shared
 * connection; they are received on a dedicated `duplicate()` connection (a
 * subscribed connection can run no other command). The subscriber reconnects
 * on its own (ioredis' retry strategy); each time it is ready it subscribes
 * again and then reports the (re)subscription. Resolves once subscribed, or
 * after `readyTimeoutMs` with the subscriber still retrying.
 */
export async function openRedisRevocationBus(redis: Redis, options: RedisRevocationBusOptions): Promise<RevocationBus> {
  const channel = revocationChannel(options.prefix);
  const listeners = createRevocationListeners();
  // Subscribing is ours (autoResubscribe off) so that the flush follows a confirmed subscription.
  const sub = redis.duplicate({ autoResubscribe: false, enableOfflineQueue: true, connectionName: options.connectionName, lazyConnect: true });
  let closed = false;
  let subscribed = false;

  sub.on("error", (err: unknown) => {
    if (!closed) options.onError(err);
  });
  sub.on("message", (from: string, text: string) => {
    if (from === channel) listeners.deliver(text);
  });
  sub.on("close", () => {
    if (closed || !subscribed) return;
    subscribed = false;
    options.onDisconnect?.();
  });
  sub.on("ready", () => {
    sub.subscribe(channel).then(
      () => {
        if (closed) return;
        subscribed = true;
        listeners.subscribed();
      },
      // The connection dropped again before the subscription: the next `ready` retries.
      (err: unknown) => options.onError(err),
    );
  });
  sub.connect().catch(() => {
    // Reported through "error"; ioredis keeps retrying.
  });
  await listeners.ready(options.readyTimeoutMs ?? 5_000);

  return {
    async publish(notice) {
      await redis.publish(channel, encodeRevocationNotice(notice));
    },
    subscribe: listeners.subscribe,
    onReconnect: listeners.onReconnect,
    async close() {
      closed = true;
      sub.disconnect();
      await Promise.resolve();
    },
  };
}
