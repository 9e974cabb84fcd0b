import { GatehouseError } from "../errors.js";
import { noMetrics, type Metrics } from "../metrics/metrics.js";
import type { PasswordHasher } from "./password-hasher.js";

/** Capacity of the hashing gate. */
export interface HashingCapacity {
  /** Hash operations running at once (default: the libuv thread pool size). */
  maxInFlight: number;
  /** Operations waiting for a slot; beyond it, 503 at once. */
  maxQueue: number;
}

/**
 * The default capacity: as many hashes at once as the libuv pool has threads,
 * but at most one less than the CPU count, so the event loop that serves
 * signed-in users always keeps a core (measured in bench/: on 2 cores, 4
 * concurrent Argon2id hashes pushed a signed-in request's p99 past 3 s).
 * Sixteen per slot may wait: about half a second at ~30 ms a hash, so a burst
 * of real sign-ins queues briefly instead of failing.
 */
export function defaultHashingCapacity(poolSize: number, cpus: number): HashingCapacity {
  const inFlight = Math.max(1, Math.min(poolSize, cpus - 1));
  return { maxInFlight: inFlight, maxQueue: inFlight * QUEUE_PER_SLOT };
}

/** Waiting hashes allowed per hashing slot by default. */
export const QUEUE_PER_SLOT = 16;

/** A hasher that can say it is full, so callers shed load before doing any other work. */
export interface BoundedHasher extends PasswordHasher {
  /** True when a new hash would be refused right now (every slot busy and the queue full). */
  saturated(): boolean;
  stats(): { inFlight: number; queued: number };
}

/**
 * Load shedding for password hashing (AUTH-12): at most `maxInFlight`
 * hashes run at once and `maxQueue` wait; anything beyond is refused with
 * 503 `overloaded` and Retry-After, so a login flood cannot starve the
 * thread pool that signed-in users and the database also need.
 */
export function createBoundedHasher(inner: PasswordHasher, capacity: HashingCapacity, metrics: Metrics = noMetrics): BoundedHasher {
  let inFlight = 0;
  const queue: (() => void)[] = [];

  async function gate<T>(work: () => Promise<T>): Promise<T> {
    if (inFlight >= capacity.maxInFlight) {
      if (queue.length >= capacity.maxQueue) {
        metrics.hashingShed();
        throw new GatehouseError("overloaded", { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => {
        queue.push(resolve);
        metrics.hashingQueue(queue.length);
      });
    } else {
      inFlight++;
    }
    try {
      return await work();
    } finally {
      const next = queue.shift();
      if (next) {
        metrics.hashingQueue(queue.length);
        next();
      }
      else inFlight--;
    }
  }

  return {
    hash: (password) => gate(() => inner.hash(password)),
    verify: (phc, password) => gate(() => inner.verify(phc, password)),
    needsRehash: (phc) => inner.needsRehash(phc),
    verifyDummy: (password) => gate(() => inner.verifyDummy(password)),
    saturated: () => inFlight >= capacity.maxInFlight && queue.length >= capacity.maxQueue,
    stats: () => ({ inFlight, queued: queue.length }),
  };
}
