import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Metrics } from "../../core/metrics/metrics.js";

/** The Prometheus side of {@link Metrics}: the registry, the request histogram, and the text a scrape gets. */
export interface PrometheusMetrics {
  /** The counting port handed to the services. */
  metrics: Metrics;
  /** One answered HTTP request: its method, route pattern (never the raw URL), status and duration. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Runs the scrape-time checks, then renders the exposition text. */
  render(): Promise<string>;
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  contentType: string;
}

/** Methods that get their own label value; any other is `other` (a client chooses the method). */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
/** A limit name is code-defined; anything else is folded, so the label set stays bounded whatever a caller passes. */
const LIMIT_NAME = /^[a-z][a-zA-Z_]{0,31}$/;

/**
 * Builds the Prometheus registry of one Gatehouse process (`METRICS=on`):
 * default process metrics and Gatehouse's own, all prefixed `gatehouse_`.
 * `refresh` runs before each scrape (the database and Redis checks, the
 * outbox depth); it must settle quickly and never throw.
 */
export function createPrometheusMetrics(options: { refresh?: () => Promise<void> } = {}): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_" });
  const registers = [registry];
  // Three default gauges are also given as totals named `…_total`, which Prometheus reserves for counters
  // (`promtool check metrics` refuses them); the same counts stay as `gatehouse_nodejs_active_{handles,requests,resources}`.
  for (const name of ["active_handles_total", "active_requests_total", "active_resources_total"]) registry.removeSingleMetric(`gatehouse_nodejs_${name}`);
  const requests = new Histogram({
    name: "gatehouse_http_request_duration_seconds",
    help: "HTTP requests answered, by method, route pattern and status code, and how long they took",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const series = new Map<string, ReturnType<typeof requests.labels>>();
  const signIns = new Counter({ name: "gatehouse_sign_ins_total", help: "Sign-ins completed and credentials refused, by method and outcome", labelNames: ["method", "outcome"] as const, registers });
  const decisions = new Counter({
    name: "gatehouse_access_decisions_total",
    help: "Gateway decisions (forward-auth and reverse proxy), by the matching rule's policy and the outcome",
    labelNames: ["via", "policy", "outcome"] as const,
    registers,
  });
  const limitHits = new Counter({ name: "gatehouse_rate_limit_hits_total", help: "Requests refused by a rate limit or a brute-force delay, by limit", labelNames: ["limit"] as const, registers });
  const bans = new Counter({ name: "gatehouse_bans_total", help: "Clients banned automatically", registers });
  const bannedRequests = new Counter({ name: "gatehouse_banned_requests_total", help: "Requests refused because their client is banned", registers });
  const cacheHits = new Counter({ name: "gatehouse_session_cache_hits_total", help: "Session lookups answered from the in-process cache", registers });
  const cacheMisses = new Counter({ name: "gatehouse_session_cache_misses_total", help: "Session lookups read from the session store", registers });
  const hashingQueue = new Gauge({ name: "gatehouse_hashing_queue_depth", help: "Password hashes waiting for a hashing slot", registers });
  const hashingShed = new Counter({ name: "gatehouse_hashing_shed_total", help: "Requests refused with 503 overloaded because password hashing was saturated", registers });
  const outboxPending = new Gauge({ name: "gatehouse_outbox_pending", help: "Mails waiting in the outbox (read at scrape time)", registers });
  const outboxFailures = new Counter({
    name: "gatehouse_outbox_delivery_failures_total",
    help: "Failed mail delivery attempts; result=retry will be tried again, given_up will not",
    labelNames: ["result"] as const,
    registers,
  });
  const up = new Gauge({ name: "gatehouse_dependency_up", help: "1 when the dependency answered its check at the last scrape, else 0", labelNames: ["dependency"] as const, registers });

  const metrics: Metrics = {
    signIn: (method, outcome) => signIns.inc({ method, outcome }),
    decision: (via, policy, outcome) => decisions.inc({ via, policy, outcome }),
    limitHit: (limit) => limitHits.inc({ limit: LIMIT_NAME.test(limit) ? limit : "other" }),
    ban: () => bans.inc(),
    bannedRequest: () => bannedRequests.inc(),
    cacheLookup: (hit) => (hit ? cacheHits : cacheMisses).inc(),
    hashingQueue: (depth) => hashingQueue.set(depth),
    hashingShed: () => hashingShed.inc(),
    outboxDepth: (pending) => outboxPending.set(pending),
    outboxFailure: (final) => outboxFailures.inc({ result: final ? "given_up" : "retry" }),
    dependencyUp: (name, isUp) => up.set({ dependency: name }, isUp ? 1 : 0),
  };
  return {
    metrics,
    observeRequest(method, route, status, seconds) {
      // One child per series, kept: the per-request cost is a map lookup, not a label hash (the set is bounded).
      const m = METHODS.has(method) ? method : "other";
      const key = `${m} ${status} ${route}`;
      let child = series.get(key);
      if (child === undefined) {
        child = requests.labels({ method: m, route, status_code: String(status) });
        series.set(key, child);
      }
      child.observe(seconds);
    },
    async render() {
      await options.refresh?.();
      return registry.metrics();
    },
    contentType: registry.contentType,
  };
}
