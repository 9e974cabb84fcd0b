import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { GATEHOUSE_COOKIE_NAMES, gatehouseCookies, withoutGatehouseCookies } from "./gatehouse-cookies.js";
import { replaceCookieHeader, stripIdentityHeaders } from "./identity-headers.js";
import { createPositiveCache, DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_MS, MAX_CACHE_TTL_MS } from "./positive-cache.js";
import { subscribeToRevocations, type RevocationSubscriber } from "./revocation-subscriber.js";

/** The signed-in user, from Gatehouse's `Remote-*` headers. */
export interface GatehouseUser {
  username: string;
  email: string;
  name: string;
  /** The role and every lower one (`["user", "admin"]`). */
  groups: string[];
}

/** What the middleware adds to a request besides `user`. */
export interface GatehouseRequestInfo {
  /** The `Remote-JWT` header of Gatehouse's answer, raw: NOT verified by this middleware. Verify it before relying on it. */
  jwt?: string;
}

/** A request after the middleware: `user` is the signed-in user, or null on a `bypass` rule with nobody signed in. */
export type GatehouseRequest = IncomingMessage & { user?: GatehouseUser | null; gatehouse?: GatehouseRequestInfo };

/** The original request, as the app sees it, that Gatehouse's rules are asked about. */
export interface OriginalRequest {
  method: string;
  /** `http` or `https`. */
  proto: string;
  /** The host the client asked for (a port is ignored by Gatehouse). */
  host: string;
  /** The path and query. */
  uri: string;
  /** The client's address, for `networks` rules (sent as `X-Forwarded-For`). */
  ip: string;
}

/** Why a request was not let through. */
export interface Denial {
  /** 401: sign in (or give a second factor); 403: not allowed; 400: no host; 503: Gatehouse unreachable, slow or failing. */
  status: 400 | 401 | 403 | 503;
  code: "unauthenticated" | "mfa_required" | "forbidden" | "invalid_request" | "unavailable";
  /** Where Gatehouse asks the browser to go (its sign-in or second-factor page), for a 401. */
  location?: string;
  /** Whether the request is a browser navigation (GET or HEAD accepting `text/html`). */
  navigation: boolean;
  /** For a 503: what failed (never sent to the client). */
  cause?: unknown;
}

/** Options of {@link gatehouseMiddleware}. */
export interface GatehouseMiddlewareOptions {
  /** Gatehouse's base URL as this app reaches it (e.g. `http://127.0.0.1:8080`); `/api/authz/forward-auth` is appended. */
  url: string;
  /** How long to wait for Gatehouse's answer before failing closed with 503 (default 3000 ms). */
  timeoutMs?: number;
  /** Cache of allowed answers (on by default: 5 s, 10,000 entries). `false` turns it off. */
  cache?: false | { ttlMs?: number; maxEntries?: number };
  /** Subscribe to the deployment's revocation channel on Redis: any notice clears the cache. */
  revocations?: { redisUrl: string; prefix?: string };
  /** Answers a denied request instead of the default (redirect, 401/403 JSON, 503). */
  onDenied?: (denial: Denial, req: GatehouseRequest, res: ServerResponse) => void;
  /** The original request as the app sees it. Default: Express's `req.protocol`, `req.host`, `req.originalUrl`, `req.ip` (so the app's `trust proxy` setting applies), else the socket and `Host`. */
  originalRequest?: (req: IncomingMessage) => OriginalRequest;
  /** Names of the cookies sent to Gatehouse (default: Gatehouse's session and SSO cookies). */
  cookieNames?: readonly string[];
  /** The clock of the cache (default `Date.now`). */
  now?: () => number;
  /** Errors of the Redis subscription and failed forward-auth calls (default: none). */
  onError?: (err: unknown) => void;
}

/** A `(req, res, next)` middleware (Express 5, Connect, plain `node:http`), with its Redis subscription to close. */
export interface GatehouseMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** Resolves once the revocation subscription is established (immediately without one); false after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean>;
  /** The number of cached allowed answers. */
  cacheSize(): number;
  /** Closes the Redis subscription. */
  close(): Promise<void>;
}

type Answer = { kind: "allow"; user: GatehouseUser | null; jwt: string | null } | Denial;

const MESSAGES: Record<Denial["code"], string> = {
  unauthenticated: "Authentication required",
  mfa_required: "A second factor is required; confirm it is you with your second factor",
  forbidden: "You are not allowed to do this",
  invalid_request: "The request is invalid",
  unavailable: "Service temporarily unavailable; try again later",
};

const FORBIDDEN_PAGE = '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not allowed</title><p>You are not allowed to see this page.</p></html>';

/** The default answer to a denial: a browser navigation is redirected to sign in; everything else gets the JSON error. */
export function answerDenial(denial: Denial, _req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.setHeader("cache-control", "no-store");
  if (denial.status === 401 && denial.location !== undefined) {
    if (denial.navigation) {
      res.statusCode = 302;
      res.setHeader("location", denial.location);
      res.end();
      return;
    }
    res.setHeader("location", denial.location);
  }
  if (denial.status === 403 && denial.navigation) {
    res.statusCode = 403;
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.setHeader("content-security-policy", "default-src 'none'");
    res.end(FORBIDDEN_PAGE);
    return;
  }
  res.statusCode = denial.status;
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.end(JSON.stringify({ error: MESSAGES[denial.code], code: denial.code }));
}

/** The original request from the app's point of view: Express's trust-proxy-aware getters when present, else the socket. */
export function defaultOriginalRequest(req: IncomingMessage): OriginalRequest {
  const r = req as IncomingMessage & { protocol?: unknown; host?: unknown; originalUrl?: unknown; ip?: unknown };
  const proto = typeof r.protocol === "string" ? r.protocol : (req.socket as Partial<TLSSocket>).encrypted === true ? "https" : "http";
  const host = typeof r.host === "string" ? r.host : (req.headers.host ?? "");
  const uri = typeof r.originalUrl === "string" ? r.originalUrl : (req.url ?? "/");
  const ip = typeof r.ip === "string" ? r.ip : (req.socket.remoteAddress ?? "");
  return { method: req.method ?? "GET", proto, host, uri, ip };
}

function isNavigation(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return (req.method === "GET" || req.method === "HEAD") && typeof accept === "string" && accept.includes("text/html");
}

function absoluteHttpUrl(value: string | null): string | undefined {
  if (value === null) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Protects the routes after it with a remote Gatehouse's access rules. For
 * each request it asks `GET <url>/api/authz/forward-auth` about the original
 * method, scheme, host and path (and the client's address), sending only
 * Gatehouse's own cookies and never the body; on 200 `req.user` is set from
 * the `Remote-*` headers and `next()` is called. A browser navigation that
 * needs a sign-in is redirected where Gatehouse says; other clients get 401,
 * a refused request 403, and anything else (Gatehouse unreachable, slow, 5xx,
 * an unexpected answer) 503: it fails closed. Client-sent `Remote-*` headers
 * are removed first, and Gatehouse's cookies before the app runs. Allowed answers of requests that carry a Gatehouse cookie
 * are cached for `cache.ttlMs` (at most 60 s), keyed on the cookies, method,
 * scheme, host, path and query and client address; a revocation notice on
 * Redis clears the cache (docs/express-middleware.md).
 */
export function gatehouseMiddleware(options: GatehouseMiddlewareOptions): GatehouseMiddleware {
  const base = new URL(options.url);
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new TypeError("gatehouseMiddleware: url must be an http(s) URL");
  const endpoint = `${base.origin}${base.pathname.replace(/\/+$/, "")}/api/authz/forward-auth`;
  const timeoutMs = options.timeoutMs ?? 3_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError("gatehouseMiddleware: timeoutMs must be a positive number");
  const ttlMs = options.cache === false ? 0 : (options.cache?.ttlMs ?? DEFAULT_CACHE_TTL_MS);
  if (!Number.isFinite(ttlMs) || ttlMs < 0 || ttlMs > MAX_CACHE_TTL_MS) throw new TypeError(`gatehouseMiddleware: cache.ttlMs must be between 0 and ${MAX_CACHE_TTL_MS}`);
  const maxEntries = options.cache === false ? 0 : (options.cache?.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES);
  if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError("gatehouseMiddleware: cache.maxEntries must be a non-negative integer");
  const cookieNames = options.cookieNames ?? GATEHOUSE_COOKIE_NAMES;
  const original = options.originalRequest ?? defaultOriginalRequest;
  const onDenied = options.onDenied ?? answerDenial;
  const now = options.now ?? Date.now;

  const cache = createPositiveCache<{ user: GatehouseUser | null; jwt: string | null }>({ ttlMs, maxEntries, now });
  const caching = ttlMs > 0 && maxEntries > 0;
  // Bumped by every invalidation, so that an answer in flight during one is not stored (it may predate the revocation).
  let generation = 0;
  const invalidate = () => {
    generation++;
    cache.clear();
  };
  const subscriber: RevocationSubscriber | null = options.revocations
    ? subscribeToRevocations({
        redisUrl: options.revocations.redisUrl,
        ...(options.revocations.prefix !== undefined ? { prefix: options.revocations.prefix } : {}),
        onInvalidate: invalidate,
        ...(options.onError ? { onError: options.onError } : {}),
      })
    : null;
  const inFlight = new Map<string, { generation: number; answer: Promise<Answer> }>();
  // With a subscription, the cache is used only while it is established (a notice sent meanwhile would be lost).
  const cacheUsable = () => caching && (subscriber === null || subscriber.subscribed());

  async function ask(o: OriginalRequest, cookies: string, navigation: boolean): Promise<Answer> {
    const headers: Record<string, string> = {
      "x-forwarded-method": o.method,
      "x-forwarded-proto": o.proto,
      "x-forwarded-host": o.host,
      "x-forwarded-uri": o.uri,
      accept: "application/json",
    };
    if (o.ip !== "") headers["x-forwarded-for"] = o.ip;
    if (cookies !== "") headers.cookie = cookies;
    let response: Response;
    let body: string;
    try {
      response = await fetch(endpoint, { method: "GET", headers, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
      body = await response.text();
    } catch (err) {
      return { status: 503, code: "unavailable", navigation, cause: err };
    }
    const h = response.headers;
    switch (response.status) {
      case 200: {
        const username = h.get("remote-user") ?? "";
        const jwt = h.get("remote-jwt");
        if (username === "") return { kind: "allow", user: null, jwt };
        const groups = (h.get("remote-groups") ?? "").split(",").map((g) => g.trim()).filter((g) => g !== "");
        return { kind: "allow", user: { username, email: h.get("remote-email") ?? "", name: h.get("remote-name") ?? "", groups }, jwt };
      }
      case 302:
      case 401: {
        const location = absoluteHttpUrl(h.get("location"));
        let code: Denial["code"] = "unauthenticated";
        try {
          if ((JSON.parse(body) as { code?: unknown }).code === "mfa_required") code = "mfa_required";
        } catch {
          // Not JSON (a page): a sign-in.
        }
        return { status: 401, code, navigation, ...(location !== undefined ? { location } : {}) };
      }
      case 403:
        return { status: 403, code: "forbidden", navigation };
      default:
        return { status: 503, code: "unavailable", navigation, cause: new Error(`forward-auth answered ${response.status}`) };
    }
  }

  async function decide(req: GatehouseRequest): Promise<Answer> {
    const o = original(req);
    const navigation = isNavigation(req);
    if (o.host === "") return { status: 400, code: "invalid_request", navigation };
    const cookies = gatehouseCookies(req.headers.cookie, cookieNames);
    // Never cached without a Gatehouse cookie (an anonymous answer is cheap and must follow the rules live).
    const key = cookies === "" || !caching ? null : createHash("sha256").update(JSON.stringify([cookies, o.method, o.proto, o.host, o.uri, o.ip])).digest("hex");
    if (key !== null && cacheUsable()) {
      const hit = cache.get(key);
      if (hit !== undefined) return { kind: "allow", ...hit };
    }
    if (key === null) return ask(o, cookies, navigation);
    // Identical requests arriving together share one call (the same key a cached answer would be served under).
    const pending = inFlight.get(key);
    if (pending !== undefined && pending.generation === generation) {
      const shared = await pending.answer;
      return "kind" in shared ? shared : { ...shared, navigation };
    }
    const asked = generation;
    const call = ask(o, cookies, navigation);
    const entry = { generation: asked, answer: call };
    inFlight.set(key, entry);
    try {
      const answer = await call;
      if ("kind" in answer && cacheUsable() && generation === asked) cache.set(key, { user: answer.user, jwt: answer.jwt });
      return answer;
    } finally {
      if (inFlight.get(key) === entry) inFlight.delete(key);
    }
  }

  const middleware = ((req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
    stripIdentityHeaders(req);
    const r = req as GatehouseRequest;
    delete r.user;
    delete r.gatehouse;
    decide(r)
      .then((answer) => {
        if ("kind" in answer) {
          // Gatehouse's cookies are not for the app (as in reverse-proxy mode): it gets its own cookies only.
          const cookie = req.headers.cookie;
          if (typeof cookie === "string" && gatehouseCookies(cookie, cookieNames) !== "") replaceCookieHeader(req, withoutGatehouseCookies(cookie, cookieNames));
          r.user = answer.user;
          if (answer.jwt !== null) r.gatehouse = { jwt: answer.jwt };
          next();
          return;
        }
        if (answer.status === 503 && answer.cause !== undefined) options.onError?.(answer.cause);
        onDenied(answer, r, res);
      })
      // A failure here (or thrown synchronously by `next` or `onDenied`) is never an unhandled rejection nor a pass.
      .catch((err: unknown) => {
        try {
          options.onError?.(err);
        } catch {
          // The app's error hook failed too: the answer below still goes out.
        }
        if (res.headersSent) res.destroy();
        else answerDenial({ status: 503, code: "unavailable", navigation: isNavigation(req), cause: err }, r, res);
      });
  }) as GatehouseMiddleware;
  middleware.ready = (readyTimeoutMs = 5_000) => (subscriber === null ? Promise.resolve(true) : subscriber.ready(readyTimeoutMs));
  middleware.cacheSize = () => cache.size();
  middleware.close = () => (subscriber === null ? Promise.resolve() : subscriber.close());
  return middleware;
}
