/** A source of the current time, injected so expiry logic is testable without fake timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and simulations. */
export interface ManualClock extends Clock {
  /** Move the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Set the clock to an absolute epoch-millisecond value. */
  set(ms: number): void;
}

/** Creates a {@link ManualClock} starting at `startMs`. */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}
