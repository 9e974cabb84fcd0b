import { GatehouseError, isGatehouseError } from "../errors.js";
import type { LimiterStore } from "./limiter-store.js";

/**
 * Wraps a {@link LimiterStore} so that any failure of the backend (Redis down,
 * a timeout) becomes 503 `unavailable`: an auth decision that cannot consult
 * its counters fails closed, never open (LOG-06).
 */
export function failClosed(store: LimiterStore, onError: (err: unknown) => void = () => undefined): LimiterStore {
  // The in-process answers have no backend to lose; they pass through as they are.
  const wrapped = (store.inProcess ? { inProcess: store.inProcess } : {}) as LimiterStore;
  for (const name of Object.keys(store) as (keyof LimiterStore)[]) {
    if (name === "inProcess") continue;
    const fn = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    (wrapped as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        if (isGatehouseError(err)) throw err;
        onError(err);
        throw new GatehouseError("unavailable", { retryAfter: 5, cause: err });
      }
    };
  }
  return wrapped;
}
