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
// The steps are the real ones, from createPipelineSteps (src/http/pipeline); nothing is copied
// (the apps are built by bench/lib/ladder-app.ts).
// BENCH_LADDER_LEVEL picks the level (or the first argument). Prints READY {"port", "cookie"}.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { sessionCookieName } from "../../src/http/plugins/session-cookie.js";
import { LADDER_LEVELS, ladderApp, type LadderLevel } from "../lib/ladder-app.js";
import { loggerOptions } from "../../src/logging/logger-options.js";

const level = (process.env.BENCH_LADDER_LEVEL ?? process.argv[2] ?? "") as LadderLevel;
if (!LADDER_LEVELS.includes(level)) throw new Error(`BENCH_LADDER_LEVEL must be one of ${LADDER_LEVELS.join(", ")}; got "${level}"`);

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

const app = await ladderApp(level, { gh, config, logger, fixedUser: signedIn.user });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0, cookie: cookieHeader })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
