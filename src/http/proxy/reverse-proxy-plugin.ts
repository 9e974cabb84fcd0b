import { ServerResponse, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Readable, Transform, pipeline } from "node:stream";
import cookie from "@fastify/cookie";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { AccessDecision, AccessRequest } from "../../core/gateway/access-decision.js";
import { isSameOriginRequest } from "../../core/csrf/cross-site-check.js";
import { GatehouseError, isGatehouseError } from "../../core/errors.js";
import { demoAccessRules } from "../../demo/demo-access-rules.js";
import { DEMO_KEY_HEADER, startWhoamiApp, type WhoamiApp } from "../../demo/whoami-app.js";
import { isBrowserNavigation, sendErrorPage } from "../error-page.js";
import { firstHeader } from "../origin.js";
import { sendError, toPublicError } from "../plugins/errors.js";
import { computeApiSecurityHeaders } from "../plugins/security-headers.js";
import { clearSessionCookie, sessionCookieName } from "../plugins/session-cookie.js";
import { createPresentedSessionResolver } from "../presented-session.js";
import type { AppDeps } from "../types.js";
import { forwardHeaders, responseHeaders } from "./forward-headers.js";
import { createLazyReplyFrom } from "./lazy-reply-from.js";
import { createStrippedHeaderFilter } from "./stripped-headers.js";
import { identityAudience } from "../../core/identity/identity-audience.js";
import { createOpenSockets, type OpenSockets } from "./open-sockets.js";
import { DEMO_PREFIX, FORWARD_ROUTE, type ProxyRouting } from "./proxy-routing.js";
import { createWebSocketProxy, isWebSocketHandshake, refuseUpgrade } from "./websocket-proxy.js";
import { UNSAFE_METHODS } from "../pipeline/route-needs.js";
import { acceptsHtml } from "../accepts-html.js";
import { createUploadGuard } from "./upload-guard.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The registry of proxied WebSockets (for tests and metrics). */
    proxySockets: OpenSockets;
    /** The loopback origin of the built-in demo app (started on first use). */
    proxyDemoOrigin(): Promise<URL>;
  }
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];


/** True when every `%` escape of a raw path and query decodes (the forwarding library decodes the whole URL). */
function decodes(uri: string): boolean {
  try {
    decodeURIComponent(uri);
    return true;
  } catch {
    return false;
  }
}

interface Upgrade {
  socket: Duplex;
  head: Buffer;
}

/**
 * Reverse-proxy mode (and the built-in demo): every request the router sent
 * to {@link FORWARD_ROUTE} is decided by the access rules and, when allowed,
 * forwarded with `@fastify/reply-from` (bodies streamed, never buffered) or,
 * for a WebSocket upgrade, relayed with `ws`. Client copies of identity
 * headers never reach the upstream; the session cookie never does either.
 * Fails closed: a decision that cannot be made (database down) is 503.
 */
export const reverseProxyPlugin = fp(
  async (app: FastifyInstance, opts: { deps: AppDeps; routing: ProxyRouting; usePipeline(context: FastifyInstance): void }) => {
    // The forwarding route lives in its own context: its body parser and reply-from stay there;
    // what tests and metrics need is decorated here, on the root.
    await app.register(forwardingContext, {
      ...opts,
      publish(sockets: OpenSockets, demoOrigin: () => Promise<URL>) {
        app.decorate("proxySockets", sockets);
        app.decorate("proxyDemoOrigin", demoOrigin);
      },
    });
  },
  { name: "reverse-proxy" },
);

interface ContextOptions {
  deps: AppDeps;
  routing: ProxyRouting;
  /** Makes the forwarding context the pipeline's `proxy` context (before its route is added). */
  usePipeline(context: FastifyInstance): void;
  publish(sockets: OpenSockets, demoOrigin: () => Promise<URL>): void;
}

async function forwardingContext(app: FastifyInstance, opts: ContextOptions): Promise<void> {
  opts.usePipeline(app);
  // A proxied request whose session died gets its cookie cleared.
  await app.register(cookie, { hook: false });
  const { config, gate, sessions } = opts.deps;
  const cookieName = sessionCookieName(config);
  // The browser's session, read exactly as forward-auth reads it; open WebSockets are re-checked with its token.
  const presentedSession = createPresentedSessionResolver({ sessions, config });
  const prefix = config.proxy.pathPrefix;
  const browserHeaders = computeApiSecurityHeaders(config.secure);
  // Client headers never forwarded: the identity/forwarding families of docs/reverse-proxy.md plus PROXY_STRIP_HEADERS.
  // The identity JWT's header is among them whatever its name, even with IDENTITY_JWT off (docs/identity-jwt.md).
  const stripped = createStrippedHeaderFilter([...config.proxy.stripHeaders, config.identityJwt.header]);
  const identityTokens = opts.deps.identityTokens ?? null;
  const jwtHeader = config.identityJwt.header.toLowerCase();
  // Demo mode without a rules file: the demo's own rules (/demo/admin for admins, /demo/ for anyone signed in).
  if (config.configFile === null && config.upstreamUrl === null) gate.replaceRules(demoAccessRules(config.publicUrl));
  if (config.upstreamUrl !== null && config.configFile === null) {
    app.log.warn("UPSTREAM_URL is set but GATEHOUSE_CONFIG is not: no access rule names the app's host, so every proxied request is refused");
  }

  // Loaded on the first forwarded request, not at start (lazy-reply-from.ts).
  const replyFrom = createLazyReplyFrom(
    {
      disableCache: true,
      disableRequestLogging: true,
      undici: { connections: 256, headersTimeout: 60_000, bodyTimeout: 300_000 },
    },
    app.log,
  );
  // Bodies are passed through as streams: never parsed, never buffered.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));

  // The rules' `rate_limit`: the same counter as forward-auth's (one budget whichever way a request comes).
  const ruleLimits = opts.deps.ruleLimits;
  // Rules with `uploads`: every file is checked before the app gets the body (src/uploads, docs/uploads.md).
  const uploadGuard = createUploadGuard({ config, audit: opts.deps.audit, log: app.log });

  const sockets = createOpenSockets({ sessions, gate, onError: (err) => app.log.error({ err }, "re-checking an open WebSocket failed; closing it") });
  const websockets = createWebSocketProxy({ sockets, maxPayload: config.proxy.bodyLimit, onError: (err) => app.log.warn({ err }, "upstream WebSocket error") });
  let demo: Promise<WhoamiApp> | null = null;
  const demoApp = (): Promise<WhoamiApp> => (demo ??= startWhoamiApp());
  opts.publish(sockets, async () => (await demoApp()).origin);

  const upgrades = new WeakMap<IncomingMessage, Upgrade>();
  const onUpgrade = (raw: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgrades.set(raw, { socket, head });
    socket.on("error", () => socket.destroy());
    // The upgrade goes through the ordinary router and hooks (bans, session, rules) like any request;
    // any answer but an accepted upgrade is written to the socket, which then closes.
    const res = new ServerResponse(raw);
    res.assignSocket(socket as never);
    res.on("finish", () => socket.end());
    app.routing(raw, res);
  };
  app.server.on("upgrade", onUpgrade);
  // Before the server stops accepting: open WebSockets would otherwise hold its close.
  app.addHook("preClose", (done) => {
    app.server.off("upgrade", onUpgrade);
    websockets.close();
    done();
  });
  app.addHook("onClose", async () => {
    await replyFrom.close();
    if (demo !== null) await (await demo).close();
  });

  function loginLocation(decision: Extract<AccessDecision, { kind: "unauthenticated" }>, proxiedHost: boolean, original: string): string {
    // On a proxied host the sign-in happens on that same host (under the prefix), so its host-only cookie covers the app.
    return proxiedHost ? `${prefix}/login?return=${encodeURIComponent(gate.safeReturnUrl(original))}` : decision.loginUrl;
  }

  function stepUpLocation(decision: Extract<AccessDecision, { kind: "step_up_required" }>, enrol: boolean, onThisHost: boolean, original: string): string {
    // A session held in this proxied host's own cookie steps up on this host (under the prefix), like its sign-in;
    // one carried by the SSO cookie steps up on the portal, which holds it as its own.
    if (!onThisHost) return enrol ? decision.enrolUrl : decision.secondFactorUrl;
    return `${prefix}${enrol ? "/account/mfa" : "/login/second-factor"}?return=${encodeURIComponent(gate.safeReturnUrl(original))}`;
  }

  app.route({
    method: METHODS,
    url: FORWARD_ROUTE,
    // The proxy context applies no cross-site check of its own: the handler applies the rule to requests carrying the session cookie.
    config: { access: "public" },
    // Fail closed: a decision that could not be made (the session store is down) is 503, never a forward.
    errorHandler: (err, request, reply) => {
      let refusal: GatehouseError;
      const status = (err as { statusCode?: number }).statusCode;
      if (isGatehouseError(err)) refusal = err;
      else if (err instanceof URIError) refusal = new GatehouseError("invalid_request");
      else if (typeof status === "number" && status >= 400 && status < 500) refusal = toPublicError(err, request);
      else {
        // A database outage is logged once per episode by the monitor; anything else here is logged as it happens.
        if (!app.databaseOutage?.absorb(err)) request.log.error({ err }, "reverse proxy: cannot decide; refusing");
        refusal = new GatehouseError("unavailable", { retryAfter: 5 });
      }
      // A person in a browser gets the portal's error page (403 "Not allowed"…), an API client the JSON body,
      // with the full browser header set (a forwarded answer gets only the proxied defaults, see src/http/pipeline/header-steps.ts).
      // Both send at once; nothing is returned (the reply is thenable, and the handler's type is void).
      // A refused upload is answered at once: the rest of its body is not read (the connection closes after the answer).
      const upload = refusal.code.startsWith("upload_") || (refusal.code === "payload_too_large" && uploadGuard.checked(request));
      if (upload) reply.header("Connection", "close");
      // A browser form post of an upload gets the error page too.
      if (upgrades.get(request.raw) === undefined && (isBrowserNavigation(request) || (upload && acceptsHtml(request.headers.accept)))) {
        sendErrorPage(request, reply, refusal);
        return;
      }
      // Gatehouse's own refusal, never a cacheable copy of the app's answer.
      sendError(reply.headers(browserHeaders).header("Cache-Control", "no-store"), refusal);
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const target = opts.routing.targetOf(request.raw);
      if (target === undefined) throw new GatehouseError("not_found");
      if (target.kind === "demo-home") return reply.header("Cache-Control", "no-store").redirect(`${DEMO_PREFIX}/`, 302);
      if (target.kind === "redirect") return reply.header("Cache-Control", "no-store").redirect(target.location, 302);
      // A URL that does not decode (`?q=%`, `/a%2`) is malformed, whoever asks: 400, before any decision or lookup.
      if (!decodes(target.uri)) throw new GatehouseError("invalid_request");

      const upgrade = upgrades.get(request.raw);
      const proto = request.protocol;
      const access: AccessRequest = { method: request.method, proto, host: target.host, uri: target.uri, ip: request.ip };
      // Single sign-on (COOKIE_DOMAIN): on an app host, the portal's domain-wide cookie signs the browser in too.
      const presented = await presentedSession(request, { sso: target.kind === "upstream" });
      const auth = presented.valid;
      const decision = gate.decide(access, auth);
      opts.deps.metrics?.decision("proxy", decision.kind === "invalid" ? "none" : decision.policy, decision.kind);
      const presentedCookie = presented.token;

      if (decision.kind === "invalid") {
        request.log.info({ reason: decision.reason }, "reverse proxy: request refused");
        throw new GatehouseError(decision.reason === "unknown host" ? "forbidden" : "invalid_request");
      }
      if (decision.kind === "unauthenticated") {
        if (presented.cookie === "host") clearSessionCookie(reply, config);
        if (upgrade === undefined && isBrowserNavigation(request)) {
          const original = `${proto}://${target.host}${target.uri}`;
          return reply.header("Cache-Control", "no-store").redirect(loginLocation(decision, target.kind === "upstream", original), 302);
        }
        throw new GatehouseError("unauthenticated");
      }
      if (decision.kind === "step_up_required") {
        // A one-factor session on a `two_factor` rule: the browser goes to give its second factor (or to enrol one
        // first), then back here; anything else gets 401 `mfa_required`. Nothing reaches the app.
        if (upgrade === undefined && isBrowserNavigation(request)) {
          const original = `${proto}://${target.host}${target.uri}`;
          const enrol = (await opts.deps.stepUp.methodsOf(decision.user.id)).length === 0;
          return reply.header("Cache-Control", "no-store").redirect(stepUpLocation(decision, enrol, target.kind === "upstream" && presented.cookie === "host", original), 302);
        }
        throw new GatehouseError("mfa_required");
      }
      if (decision.kind === "forbidden") throw new GatehouseError("forbidden");

      // The cross-site rule of docs/api.md, for state-changing requests and WebSocket handshakes (cross-site WebSocket
      // hijacking) that carry the session cookie: a browser attaches it to cross-site requests too.
      const sessionToken = auth === null ? null : presentedCookie;
      if (presentedCookie !== null && (UNSAFE_METHODS.has(request.method) || upgrade !== undefined)) {
        const expected = target.kind === "demo" ? config.publicUrl : `${proto}://${target.host}`;
        const h = request.headers;
        const sameOrigin =
          upgrade !== undefined
            ? firstHeader(h.origin) === undefined || firstHeader(h.origin) === expected
            : isSameOriginRequest(
                { secFetchSite: firstHeader(h["sec-fetch-site"]), origin: firstHeader(h.origin), referer: firstHeader(h.referer), xRequestedWith: firstHeader(h["x-requested-with"]), validCsrfToken: false },
                expected,
              );
        if (!sameOrigin) throw new GatehouseError("csrf");
      }

      // The rule's rate limits count only what would be forwarded; over one, Gatehouse answers 429 itself.
      if (decision.rateLimits !== undefined) {
        const ua = request.headers["user-agent"];
        const refused = await ruleLimits.check(decision.rateLimits, { ip: request.ip, userId: decision.user?.id ?? null, userAgent: typeof ua === "string" ? ua : "", requestId: request.id });
        if (refused !== null) throw new GatehouseError("rate_limited", { retryAfter: refused.retryAfter });
      }

      const upstream = target.kind === "demo" ? (await demoApp()).origin : target.upstream;
      // IDENTITY_JWT=on: a signed-in user's request carries the signed identity for this host; an anonymous one none.
      const audience = identityAudience(target.host, proto);
      const jwt = identityTokens !== null && auth !== null && decision.user !== null && audience !== null ? await identityTokens.mint(auth, audience) : null;
      // `inject_headers` (docs/secrets.md): rendered from the vault after the decision allowed the request; each
      // replaces any client copy (any case), and one whose secret is missing is removed, never sent as a placeholder.
      const injected = target.kind === "upstream" && decision.inject !== undefined && opts.deps.vault ? await opts.deps.vault.render(decision.inject, decision.user?.id ?? null) : null;
      const headers = (incoming: Record<string, string | string[] | number | undefined>, websocket: boolean): Record<string, string | string[]> => {
        const out = forwardHeaders(incoming, { identity: decision.headers, ip: request.ip, proto, host: target.host, sessionCookie: cookieName, stripped }, { websocket });
        if (jwt !== null) out[jwtHeader] = jwt;
        if (target.kind === "demo" && demo !== null) out[DEMO_KEY_HEADER] = demoKey;
        if (injected !== null) {
          for (const [name, value] of injected) {
            for (const key of Object.keys(out)) if (key.toLowerCase() === name) delete out[key];
            if (value !== null) out[name] = value;
          }
        }
        return out;
      };
      const demoKey = target.kind === "demo" ? (await demoApp()).key : "";

      if (upgrade !== undefined) {
        reply.hijack();
        if (!isWebSocketHandshake(request.raw)) {
          refuseUpgrade(upgrade.socket, 400, "invalid_request", "The request is invalid");
          return reply;
        }
        websockets.forward({ raw: request.raw, socket: upgrade.socket, head: upgrade.head, upstream, uri: target.uri, headers: headers(request.headers, true), request: access, sessionToken });
        return reply;
      }

      // Body size: a declared length over the limit is refused before anything reaches the upstream;
      // a chunked body is counted as it streams and cut off (413) at the limit.
      const limit = decision.maxBodyBytes ?? config.proxy.bodyLimit;
      const declared = firstHeader(request.headers["content-length"]);
      if (declared !== undefined && Number(declared) > limit) throw new GatehouseError("payload_too_large");
      let tooLarge = false;
      if (request.body instanceof Readable && declared === undefined) {
        let seen = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            seen += chunk.length;
            if (seen > limit) {
              tooLarge = true;
              callback(new GatehouseError("payload_too_large"));
            } else callback(null, chunk);
          },
        });
        request.body = pipeline(request.body, counter, () => undefined);
      }

      // An upload rule: the whole body is checked (each file up to the rule's max_size) before anything is forwarded.
      let guarded: { contentType: string; length: number } | null = null;
      if (decision.uploads !== undefined && request.body instanceof Readable) {
        const checked = await uploadGuard.check(request, request.body, decision.uploads, decision.user?.id ?? null);
        request.body = checked.body;
        guarded = { contentType: checked.contentType, length: checked.length };
      }

      return replyFrom.from(reply, target.uri, {
        getUpstream: () => upstream.origin,
        retryDelay: () => null,
        rewriteRequestHeaders: (_req, incoming) => {
          const out = headers(incoming, false);
          if (guarded !== null) {
            delete out["transfer-encoding"];
            out["content-type"] = guarded.contentType;
            out["content-length"] = String(guarded.length);
          }
          return out;
        },
        rewriteHeaders: (incoming) => responseHeaders(incoming, cookieName) as IncomingHttpHeaders,
        onError: (errorReply, { error }) => {
          const out = errorReply as unknown as FastifyReply;
          // The rest of an oversized body is not read: the connection closes after the answer.
          out.headers(browserHeaders).header("Cache-Control", "no-store");
          if (tooLarge) return void sendError(out.header("Connection", "close"), new GatehouseError("payload_too_large"));
          request.log.warn({ err: error }, "reverse proxy: upstream failed");
          const status = (error as { statusCode?: number }).statusCode;
          if (status === 400) return void sendError(out, new GatehouseError("invalid_request"));
          sendError(out, new GatehouseError("bad_gateway"));
        },
      });
    },
  });
}
