import type { AccessDecision } from "../gateway/access-decision.js";
import type { Policy } from "../gateway/access-rules.js";

/** How a sign-in (or a failed attempt) proved, or tried to prove, who the user is. A fixed set: metric labels stay bounded. */
export type SignInMethodLabel = "password" | "passkey" | "totp" | "recovery_code" | "provider" | "api_token" | "other";

/** Where a gateway decision was asked for. */
export type DecisionVia = "forward_auth" | "proxy";

/** The dependencies whose availability is reported. */
export type Dependency = "database" | "redis";

/**
 * The counting port (Prometheus `/metrics` when `METRICS=on`): services call
 * it at the moments worth counting; the HTTP layer owns the exporter
 * (src/http/metrics). Every argument is from a fixed, small set — never a
 * user id, name, address, IP or path — so a label can never carry personal
 * data or grow without bound. Calls must be cheap and never throw.
 */
export interface Metrics {
  /** A sign-in completed (`success`) or a credential was refused (`failure`). */
  signIn(method: SignInMethodLabel, outcome: "success" | "failure"): void;
  /** One gateway decision: the policy of the matching rule (`none` when no rule applied) and the decision's kind. */
  decision(via: DecisionVia, policy: Policy | "none", outcome: AccessDecision["kind"]): void;
  /** A request refused by a limit (a route limit's name, `ip_failures`, `account_failures`, …). */
  limitHit(limit: string): void;
  /** A client was banned. */
  ban(): void;
  /** A request was refused because its client is banned. */
  bannedRequest(): void;
  /** A session lookup answered from the in-process cache (`true`) or read from the store. */
  cacheLookup(hit: boolean): void;
  /** Password hashes waiting for a slot right now. */
  hashingQueue(depth: number): void;
  /** A password hash refused at once because hashing is saturated (503 `overloaded`). */
  hashingShed(): void;
  /** Mails waiting in the outbox. */
  outboxDepth(pending: number): void;
  /** A mail delivery attempt failed; `final` when the outbox gives it up. */
  outboxFailure(final: boolean): void;
  /** Whether a dependency answered its last check. */
  dependencyUp(name: Dependency, up: boolean): void;
}

/** The default {@link Metrics}: counts nothing (`METRICS=off`). */
export const noMetrics: Metrics = Object.freeze({
  signIn() {},
  decision() {},
  limitHit() {},
  ban() {},
  bannedRequest() {},
  cacheLookup() {},
  hashingQueue() {},
  hashingShed() {},
  outboxDepth() {},
  outboxFailure() {},
  dependencyUp() {},
});
