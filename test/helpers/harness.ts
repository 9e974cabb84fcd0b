import type { ProviderSettings } from "../../src/core/oauth/identity-provider.js";
import { randomBytes } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { createManualClock, type Clock, type ManualClock } from "../../src/core/clock.js";
import type { PasswordHasher } from "../../src/core/passwords/password-hasher.js";
import type { SecondFactors, SecondFactorVerifiers } from "../../src/core/sign-in/second-factors.js";
import type { Role } from "../../src/core/users/user.js";
import { createGatehouse, type Gatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createBackend, redisTestPrefix, type Backend } from "./backends.js";
import { captureLogger } from "./log-capture.js";

/** A running test Gatehouse on one backend, with a manual clock and captured logs. */
export interface Harness {
  gh: Gatehouse;
  backend: Backend;
  clock: ManualClock;
  logs: ReturnType<typeof captureLogger>;
  publicUrl: string;
  /** Injects a request; unsafe methods get a same-origin `Origin` unless `headers.origin` is given (null removes it). */
  request(opts: RequestOptions): Promise<LightMyRequestResponse>;
  /** Registers a user and returns its session cookie header value. */
  register(username: string, password?: string, email?: string): Promise<{ cookie: string; res: LightMyRequestResponse }>;
  /**
   * Registers `name` (with an email) and gives it `role` directly in the
   * database, as an operator would; returns its cookie, id and name.
   */
  account(role?: Role, name?: string): Promise<{ cookie: string; id: string; name: string }>;
  /** Logs in and returns the session cookie header value. */
  login(username: string, password?: string, extra?: Record<string, unknown>): Promise<{ cookie: string; res: LightMyRequestResponse }>;
  close(): Promise<void>;
}

export interface RequestOptions {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "TRACE" | "PROPFIND";
  url: string;
  json?: unknown;
  payload?: string | Buffer;
  cookie?: string;
  headers?: Record<string, string | null>;
}

/** Limits high enough that ordinary suites never trip them. */
export const RELAXED_LIMITS: Record<string, string> = {
  RATE_LIMIT_LOGIN: "10000/1m",
  RATE_LIMIT_REGISTER: "10000/1m",
  RATE_LIMIT_FORGOT_PASSWORD: "10000/1m",
  RATE_LIMIT_ACCOUNT_DELETE: "10000/1m",
  RATE_LIMIT_TOKEN_CREATE: "10000/1m",
  RATE_LIMIT_API: "100000/1m",
  BRUTE_FORCE_IP_FAILURES: "1000",
  AUTO_BAN_TRIPS: "0",
};

/** The shipped defaults, for the suites that test them. */
export const PRODUCTION_LIMITS: Record<string, string> = {
  RATE_LIMIT_LOGIN: "10/1m",
  RATE_LIMIT_REGISTER: "5/1m",
  RATE_LIMIT_FORGOT_PASSWORD: "3/1m",
  RATE_LIMIT_ACCOUNT_DELETE: "2/1m",
  RATE_LIMIT_TOKEN_CREATE: "5/1h",
  RATE_LIMIT_API: "120/1m",
  BRUTE_FORCE_IP_FAILURES: "10",
  AUTO_BAN_TRIPS: "5",
};

/** Test doubles of ports, passed to createGatehouse. */
export interface HarnessOptions {
  hasher?: PasswordHasher;
  memoryLimiterKeys?: number;
  secondFactors?: SecondFactors;
  secondFactorVerifiers?: SecondFactorVerifiers;
  /** Identity providers (default: those of the env's `OAUTH_*` variables and rules file). */
  providers?: readonly ProviderSettings[];
  /**
   * Runs on this backend (another harness's: the same SQLite file or
   * PostgreSQL schema) instead of a fresh one, as a second instance of one
   * deployment; its owner cleans it up. Pass the same `REDIS_PREFIX` in the
   * env to share Redis too.
   */
  sharedBackend?: Backend;
}

let accountSeq = 0;

/** A password that passes the policy. */
export const GOOD_PASSWORD = "tulip-orbit-lantern-42";

/** The pending sign-in cookie set by a response (`gatehouse_pending`; `__Host-` prefixed over https) as a Cookie header value, or null. */
export function pendingCookieFrom(res: LightMyRequestResponse): string | null {
  const c = res.cookies.find((x) => x.name.endsWith("gatehouse_pending"));
  return c && c.value !== "" ? `${c.name}=${c.value}` : null;
}

/** The value of the session cookie set by a response, or null. */
export function sessionCookieFrom(res: LightMyRequestResponse): string | null {
  const c = res.cookies.find((x) => x.name === "gatehouse_session" || x.name === "__Host-gatehouse_session");
  return c && c.value !== "" ? `${c.name}=${c.value}` : null;
}

/**
 * Starts Gatehouse on `backendName` with extra environment. The harness opens
 * self-registration (`REGISTRATION=open`, the shipped default is `closed`)
 * because most suites sign up through `POST /api/auth/register`; pass
 * `REGISTRATION: ""` to run with the default. It also turns the MFA
 * requirement off (`MFA_REQUIRED=off`; the shipped default `admins` refuses
 * admin functions to an admin without a second factor), because most suites
 * act as admins made by `account("admin")` with no factor; the suites of the
 * policy pass `MFA_REQUIRED: "admins"` (or `everyone`) explicitly
 * (test/integration/mfa-policy.test.ts).
 */
export async function startHarness(
  backendName: Backend["name"],
  env: Record<string, string> = {},
  clock?: Clock,
  options: HarnessOptions = {},
): Promise<Harness> {
  const shared = options.sharedBackend;
  const backend = shared ?? (await createBackend(backendName));
  const cleanup = shared ? async () => undefined : () => backend.cleanup();
  const manual = (clock as ManualClock | undefined) ?? createManualClock(Date.now());
  const logs = captureLogger();
  let config: ReturnType<typeof loadConfig>;
  let gh: Gatehouse;
  try {
    config = loadConfig({
      NODE_ENV: "test",
      SECRET_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "debug",
      // Suites other than the abuse-protection ones sign in many times from one
      // IP within one (frozen) minute; they get generous limits. The protection
      // suites pass the production defaults explicitly (PRODUCTION_LIMITS).
      ...RELAXED_LIMITS,
      // Most suites self-register; the closed default is tested with REGISTRATION: "" (test/integration/registration-mode.test.ts).
      REGISTRATION: "open",
      // Admin suites act as admins without a second factor; the MFA policy suites set MFA_REQUIRED themselves.
      MFA_REQUIRED: "off",
      ...backend.env,
      ...env,
    });
    gh = await createGatehouse({
      config,
      logger: logs.logger,
      clock: manual,
      ...(options.hasher ? { hasher: options.hasher } : {}),
      ...(options.memoryLimiterKeys ? { memoryLimiterKeys: options.memoryLimiterKeys } : {}),
      ...(options.secondFactors ? { secondFactors: options.secondFactors } : {}),
      ...(options.secondFactorVerifiers ? { secondFactorVerifiers: options.secondFactorVerifiers } : {}),
      ...(options.providers ? { providers: options.providers } : {}),
      ...(backend.schema ? { schema: backend.schema } : {}),
      ...(config.redisUrl ? { redisPrefix: env.REDIS_PREFIX ?? redisTestPrefix() } : {}),
    });
    await gh.app.ready();
  } catch (err) {
    await cleanup();
    throw err;
  }

  async function request(opts: RequestOptions): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = {};
    if (!["GET", "HEAD", "OPTIONS"].includes(opts.method)) headers.origin = config.publicUrl;
    if (opts.cookie) headers.cookie = opts.cookie;
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v === null) delete headers[k.toLowerCase()];
      else headers[k.toLowerCase()] = v;
    }
    let payload = opts.payload;
    if (opts.json !== undefined) {
      payload = JSON.stringify(opts.json);
      headers["content-type"] ??= "application/json";
    }
    return gh.app.inject({ method: opts.method as "GET", url: opts.url, headers, ...(payload !== undefined ? { payload } : {}) });
  }

  async function withCookie(res: LightMyRequestResponse) {
    const cookie = sessionCookieFrom(res);
    if (!cookie) throw new Error(`no session cookie (status ${res.statusCode}: ${res.body})`);
    return { cookie, res };
  }

  return {
    gh,
    backend,
    clock: manual,
    logs,
    publicUrl: config.publicUrl,
    request,
    async register(username, password = GOOD_PASSWORD, email) {
      const res = await request({ method: "POST", url: "/api/auth/register", json: { username, password, ...(email ? { email } : {}) } });
      return withCookie(res);
    },
    async account(role = "user", name = `${role}${++accountSeq}x${process.pid % 1000}`) {
      const res = await request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email: `${name}@example.test` } });
      const { cookie } = await withCookie(res);
      const id = res.json().user.id as string;
      if (role !== "user") {
        await gh.database.db.updateTable("users").set({ role }).where("id", "=", id).execute();
        gh.sessions.forgetUser(id);
      }
      return { cookie, id, name };
    },
    async login(username, password = GOOD_PASSWORD, extra = {}) {
      const res = await request({ method: "POST", url: "/api/auth/login", json: { username, password, ...extra } });
      return withCookie(res);
    },
    async close() {
      await gh.close();
      await cleanup();
    },
  };
}
