import type { LightMyRequestResponse } from "fastify";
import type { Clock } from "../../src/core/clock.js";
import { REDIS_URL, type LimiterBackend } from "./backends.js";
import { PRODUCTION_LIMITS, startHarness, type Harness } from "./harness.js";

/** Small helpers shared by the abuse-protection suites (brute force, rate limits). */

/** The shipped limits on the given limiter backend (Redis gets its own key prefix from the harness). */
export function protectionEnv(limiter: LimiterBackend, extra: Record<string, string> = {}): Record<string, string> {
  return { ...PRODUCTION_LIMITS, ...(limiter === "redis" ? { REDIS_URL } : {}), ...extra };
}

/** app.inject connects from 127.0.0.1: trusting it makes `X-Forwarded-For` the client IP. */
export const BEHIND_PROXY: Record<string, string> = { TRUSTED_PROXIES: "127.0.0.1" };

/** The address app.inject connects from. */
export const DIRECT_IP = "127.0.0.1";

let ipSeq = 0;
/** A client address never used before in this process (10.0.0.0/8, never a trusted proxy). */
export function freshIp(): string {
  ipSeq += 1;
  return `10.${(ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;
}

/** Headers of a request relayed by the trusted proxy for client `ip`. */
export function fromIp(ip: string): Record<string, string> {
  return { "x-forwarded-for": ip };
}

/** POST /api/auth/login. */
export function loginAs(h: Harness, username: string, password: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return h.request({ method: "POST", url: "/api/auth/login", json: { username, password }, headers });
}

/** The Retry-After header in seconds (NaN when absent). */
export function retryAfter(res: LightMyRequestResponse): number {
  const v = res.headers["retry-after"];
  return v === undefined ? Number.NaN : Number(v);
}

/** Harnesses opened by one test, closed together afterwards. */
export function harnessPool() {
  const open: Harness[] = [];
  return {
    async start(limiter: LimiterBackend, extra: Record<string, string> = {}, clock?: Clock): Promise<Harness> {
      const h = await startHarness("sqlite", protectionEnv(limiter, extra), clock);
      open.push(h);
      return h;
    },
    /** Closes a harness started some other way with the others. */
    track(h: Harness): Harness {
      open.push(h);
      return h;
    },
    async closeAll(): Promise<void> {
      const all = open.splice(0);
      await Promise.all(all.map((h) => h.close()));
    },
  };
}
