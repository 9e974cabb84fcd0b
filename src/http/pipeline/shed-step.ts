import type { onRequestHookHandler } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import type { BoundedHasher } from "../../core/passwords/bounded-hasher.js";
import { noMetrics, type Metrics } from "../../core/metrics/metrics.js";

/**
 * Builds the step of routes that hash a password: refused at once with 503
 * `overloaded` (and `Retry-After: 1`), before the body is even read, while
 * every hashing slot is busy and the queue is full (AUTH-12).
 */
export function createShedStep(hashing: Pick<BoundedHasher, "saturated">, metrics: Metrics = noMetrics): onRequestHookHandler {
  const overloaded = () => {
    metrics.hashingShed();
    return new GatehouseError("overloaded", { retryAfter: 1 });
  };
  return function shedWhenSaturated(_request, _reply, done) {
    done(hashing.saturated() ? overloaded() : undefined);
  };
}
