/** Where the monitor writes: one error line when an outage starts, one info line when it ends, debug lines in between. */
export interface OutageLog {
  error(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
  debug(details: Record<string, unknown>, message: string): void;
}

/** Timers, injected so that tests (and shutdown) control them. */
export interface OutageTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What {@link createOutageMonitor} needs. */
export interface OutageMonitorOptions {
  /** What is down, for the log lines (`database`). */
  what: string;
  /** True for an error that means the dependency is unreachable (not a bug such as a missing table). */
  isOutage(err: unknown): boolean;
  /** A cheap check that the dependency answers again (`select 1`). */
  probe(): Promise<boolean>;
  log: OutageLog;
  /** Milliseconds since some epoch, for the episode's duration. */
  now(): number;
  /** How often the probe runs during an outage (default 2 s). */
  probeEveryMs?: number;
  /** Seconds a refused client is told to wait (`Retry-After`, default 5). */
  retryAfterSeconds?: number;
  timers?: OutageTimers;
}

/** One dependency's outage state, shared by every request. */
export interface OutageMonitor {
  /**
   * Takes an error thrown while serving a request: true when it is an outage
   * of the dependency (the caller answers 503 `unavailable` with
   * {@link OutageMonitor.retryAfterSeconds}), false for any other error.
   * The first outage error of an episode is logged at error level and starts
   * the recovery probe; later ones only at debug level.
   */
  absorb(err: unknown): boolean;
  /** Whether an outage episode is in progress. */
  readonly down: boolean;
  readonly retryAfterSeconds: number;
  /** Stops the recovery probe (shutdown). */
  stop(): void;
}

const REAL_TIMERS: OutageTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Turns a dependency outage into one episode: a single error log line when
 * it starts (with the first error), a single info line when a probe finds
 * the dependency answering again (with the duration and how many requests
 * were refused), and nothing above debug level per request in between. A
 * log flood of stack traces (hundreds a second) would hide everything else.
 */
export function createOutageMonitor(options: OutageMonitorOptions): OutageMonitor {
  const timers = options.timers ?? REAL_TIMERS;
  const every = options.probeEveryMs ?? 2_000;
  let since: number | null = null;
  let refused = 0;
  let timer: unknown = null;
  let stopped = false;

  const schedule = (): void => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      timer = null;
      options.probe().then(
        (ok) => {
          if (!ok || since === null) return schedule();
          options.log.info({ what: options.what, downMs: options.now() - since, refused }, `${options.what} reachable again; requests are served`);
          since = null;
          refused = 0;
        },
        () => schedule(),
      );
    }, every);
  };

  return {
    absorb(err) {
      if (!options.isOutage(err)) return false;
      refused += 1;
      if (since === null) {
        since = options.now();
        options.log.error({ what: options.what, err }, `${options.what} unavailable: answering 503 unavailable until it answers again`);
        if (timer === null) schedule();
      } else {
        options.log.debug({ what: options.what, message: err instanceof Error ? err.message : String(err) }, `${options.what} still unavailable`);
      }
      return true;
    },
    get down() {
      return since !== null;
    },
    retryAfterSeconds: options.retryAfterSeconds ?? 5,
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
