import { parseRevocationNotice, type RevocationBus, type RevocationNotice } from "../core/sessions/revocation-bus.js";

/**
 * The listener side every revocation bus shares: the handlers registered
 * through `subscribe` and `onReconnect`, delivery of a received text (parsed;
 * unreadable ones are dropped), and the first (re)subscription that the
 * bus's opening waits for.
 */
export interface RevocationListeners extends Pick<RevocationBus, "subscribe" | "onReconnect"> {
  /** A text received on the channel: parsed and handed to every handler. */
  deliver(text: string): void;
  /** A (re)subscription is confirmed: every reconnect handler runs (the cache flush), and the first one ends {@link ready}. */
  subscribed(): void;
  /** Resolves at the first confirmed subscription, or after `timeoutMs` (the bus keeps retrying); leaves no timer behind. */
  ready(timeoutMs: number): Promise<void>;
}

/** Creates the {@link RevocationListeners} of one bus. */
export function createRevocationListeners(): RevocationListeners {
  const handlers: ((notice: RevocationNotice) => void)[] = [];
  const reconnectHandlers: (() => void)[] = [];
  let firstSubscription: (() => void) | null = null;
  const first = new Promise<void>((resolve) => (firstSubscription = resolve));
  return {
    subscribe: (handler) => void handlers.push(handler),
    onReconnect: (handler) => void reconnectHandlers.push(handler),
    deliver(text) {
      const notice = parseRevocationNotice(text);
      if (notice === null) return;
      for (const handler of handlers) handler(notice);
    },
    subscribed() {
      for (const handler of reconnectHandlers) handler();
      firstSubscription?.();
      firstSubscription = null;
    },
    async ready(timeoutMs) {
      let waiting: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (waiting = setTimeout(resolve, timeoutMs)));
      await Promise.race([first, timeout]);
      clearTimeout(waiting);
    },
  };
}
