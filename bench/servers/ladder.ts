// The ladder ablation of issue 14 (docs/performance.md, "Where the time goes
// (issue 14 ladder)"): GET /api/auth/me built up one real piece at a time,
// one level per process, so the CPU each required step costs per answer can
// be read as the difference between two neighbouring levels.
//
// Every level first starts the real Gatehouse exactly as
// bench/servers/gatehouse.ts does (createGatehouse, SQLite in a fresh data
// dir, production mode, logging at info into a file, the per-user API limit
// lifted by the runner) and registers a user, so every level carries the same
// loaded modules and heap; then it serves one of these (cumulative):
//   L0  bare Fastify defaults; /me answers { user: toPublicUser(<the user>) } with Gatehouse's response schema (no auth)
//   L1  + Gatehouse's server options (gatehouseServerOptions: host routing in rewriteUrl, genReqId, logger and
//         log controller, lazy child logger, trustProxy, ajv options, error handlers)
//   L2  + the root steps stampRequestId and checkBan (app-level onRequest hooks, as buildApp adds them)
//   L3  + setApiHeaders
//   L4  + refuseQueryKeys
//   L5  + resolveSession (the real session cache; the handler now answers request.auth.user)
//   L6  + countRouteLimit("api")
//   L7  + refuseAccess("user", "read:account") — every step the real /me route has
//   L7c + @fastify/cookie registered in the route's context (hook: false, as the api context does: its onSend hook stays)
//   L8  the real app (createGatehouse's buildApp), as the me-sqlite scenario measures it
// and for forward-auth (the runner sets TRUSTED_PROXIES and a rules file):
//   Fmin   L1's server + stampRequestId + checkBan + the authz context's pipeline (resolveSession) + the real forward-auth routes
//   Freal  the real app's GET /api/authz/forward-auth
// The steps are the real ones, from createPipelineSteps (src/http/pipeline); nothing is copied.
// BENCH_LADDER_LEVEL picks the level (or the first argument). Prints READY {"port", "cookie"}.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cookie from "@fastify/cookie";
import Fastify, { type FastifyInstance, type onRequestHookHandler } from "fastify";
import pino from "pino";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { systemClock } from "../../src/core/clock.js";
import { GatehouseError } from "../../src/core/errors.js";
import { toPublicUser } from "../../src/core/users/user.js";
import { createPipelineSteps } from "../../src/http/pipeline/pipeline-steps.js";
import { refuseQueryKeys } from "../../src/http/pipeline/query-keys-step.js";
import { CONTEXTS } from "../../src/http/pipeline/route-needs.js";
import { usePipeline } from "../../src/http/pipeline/use-pipeline.js";
import { sessionCookieName } from "../../src/http/plugins/session-cookie.js";
import { createProxyRouting } from "../../src/http/proxy/proxy-routing.js";
import { forwardAuthRoutes } from "../../src/http/routes/authz/forward-auth-routes.js";
import { userResponse } from "../../src/http/schemas.js";
import { gatehouseServerOptions } from "../../src/http/server-options.js";
import type { AppDeps } from "../../src/http/types.js";
import { loggerOptions } from "../../src/logging/logger-options.js";

// The levels, in ladder order (bench/scenarios/ladder.ts names the same).
const LADDER_LEVELS = ["L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L7c", "L8", "Fmin", "Freal"] as const;
type LadderLevel = (typeof LADDER_LEVELS)[number];

const level = (process.env.BENCH_LADDER_LEVEL ?? process.argv[2] ?? "") as LadderLevel;
if (!LADDER_LEVELS.includes(level)) throw new Error(`BENCH_LADDER_LEVEL must be one of ${LADDER_LEVELS.join(", ")}; got "${level}"`);
const rung = (l: LadderLevel) => LADDER_LEVELS.indexOf(l);
const atLeast = (l: LadderLevel) => level !== "Fmin" && level !== "Freal" && rung(level) >= rung(l);

const env = process.env;
const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-ladder-"));
const config = loadConfig({
  NODE_ENV: "production",
  GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  PUBLIC_URL: "http://127.0.0.1",
  ...Object.fromEntries(Object.entries(env).filter(([k]) => /^(RATE_LIMIT_|TRUSTED_PROXIES$|GATEHOUSE_CONFIG$)/.test(k))),
});
const logger = pino(loggerOptions(config.logLevel), pino.destination({ dest: join(dataDir, "gatehouse.log"), sync: false }));
const gh = await createGatehouse({ config, logger });
const origin = { ip: "127.0.0.1", userAgent: "bench" };
const { issued } = await gh.accounts.register({ username: `ladder${randomBytes(4).toString("hex")}`, password: "bench-orchid-lantern-93" }, origin);
if (!issued) throw new Error("bench: registering did not sign in");
const cookieHeader = `${sessionCookieName(config)}=${issued.token}`;
const signedIn = await gh.sessions.validate(issued.token);
if (!signedIn) throw new Error("bench: the new session does not validate");
const fixedUser = signedIn.user;

async function ladderApp(): Promise<FastifyInstance> {
  // The same host routing buildApp gives rewriteUrl (src/http/app.ts).
  const routing = createProxyRouting({ gate: gh.gate, publicUrl: config.publicUrl, upstreamUrl: config.upstreamUrl, pathPrefix: config.proxy.pathPrefix, loopbackRedirect: false });
  const app: FastifyInstance = level === "L0" ? Fastify() : Fastify(gatehouseServerOptions(config, routing, logger));
  // What createPipelineSteps reads; the hashing gate only serves shedWhenSaturated, which no level uses.
  const deps = { config, bans: gh.bans, sessions: gh.sessions, tokens: gh.tokens, limiter: gh.limiter, clock: systemClock, hashing: { saturated: () => false } };
  const steps = createPipelineSteps(deps as unknown as AppDeps);
  if (level === "Fmin" || atLeast("L2")) {
    app.addHook("onRequest", steps.stampRequestId);
    app.addHook("onRequest", steps.checkBan);
  }
  if (level === "Fmin" || atLeast("L5")) app.decorateRequest("auth", null);
  if (level === "Fmin") {
    await app.register(async function authz(context) {
      usePipeline(context, CONTEXTS.authz, steps, []);
      await context.register(forwardAuthRoutes, { gate: gh.gate, sessions: gh.sessions, audit: gh.audit, clock: systemClock, config });
    });
    return app;
  }
  await app.register(async function jsonApi(api) {
    if (atLeast("L7c")) await api.register(cookie, { hook: false });
    const onRequest: onRequestHookHandler[] = [];
    if (atLeast("L3")) onRequest.push(steps.setApiHeaders);
    if (atLeast("L4")) onRequest.push(refuseQueryKeys);
    if (atLeast("L5")) onRequest.push(steps.resolveSession(true));
    if (atLeast("L6")) onRequest.push(steps.countRouteLimit("api"));
    if (atLeast("L7")) onRequest.push(steps.refuseAccess("user", "read:account"));
    const schema = { response: { 200: userResponse } };
    if (atLeast("L5")) {
      api.get("/api/auth/me", { onRequest, schema }, async (request) => {
        if (!request.auth) throw new GatehouseError("unauthenticated");
        return { user: toPublicUser(request.auth.user) };
      });
    } else {
      api.get("/api/auth/me", { onRequest, schema }, async () => ({ user: toPublicUser(fixedUser) }));
    }
  });
  return app;
}

const app = level === "L8" || level === "Freal" ? gh.app : await ladderApp();
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0, cookie: cookieHeader })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
