// Gatehouse as `npm start` runs it (SQLite, or DATABASE_URL), logging at the
// shipped default level (info) into a file, plus one registered user whose
// session cookie the runner uses. Scenario switches (all optional):
//   BENCH_DATA_DIR        use this data dir (e.g. one seeded by seed-sessions.ts)
//   BENCH_PG_SCHEMA       PostgreSQL schema to run in (with DATABASE_URL)
//   BENCH_CACHE=off       no in-process session cache: every check reads the database
//   BENCH_LOGIN_USERS=n   also create n users with the bench password (login scenario)
//   BENCH_NO_USER=1       register nobody (idle footprint)
//   BENCH_BAN_IP=ip       ban this IP once ready (rate-limited rejection scenario)
//   BENCH_LOG_LEVEL       log level (default: the shipped default, info)
//   BENCH_PUBLIC_URL      the portal's URL (default http://127.0.0.1; the proxy scenario
//                         moves it to localhost so 127.0.0.1 is a proxied host)
// RATE_LIMIT_*, BRUTE_FORCE_*, AUTO_BAN_*, HASH_*, TRUSTED_PROXIES, GATEHOUSE_CONFIG
// and UPSTREAM_URL pass straight through to the configuration.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { sessionCookieName } from "../../src/http/plugins/session-cookie.js";
import { loggerOptions } from "../../src/logging/logger-options.js";

const env = process.env;
const dataDir = env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), "gatehouse-bench-"));
const config = loadConfig({
  NODE_ENV: "production",
  GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
  SECRET_KEY: env.BENCH_SECRET_KEY ?? randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  PUBLIC_URL: env.BENCH_PUBLIC_URL ?? "http://127.0.0.1",
  ...(env.BENCH_LOG_LEVEL ? { LOG_LEVEL: env.BENCH_LOG_LEVEL } : {}),
  ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : {}),
  ...Object.fromEntries(
    Object.entries(env).filter(([k]) => /^(RATE_LIMIT_|BRUTE_FORCE_|AUTO_BAN_|HASH_|TRUSTED_PROXIES$|GATEHOUSE_CONFIG$|UPSTREAM_URL$)/.test(k)),
  ),
});
const logger = pino(loggerOptions(config.logLevel), pino.destination({ dest: join(dataDir, "gatehouse.log"), sync: false }));
const gh = await createGatehouse({
  config,
  logger,
  ...(env.BENCH_PG_SCHEMA ? { schema: env.BENCH_PG_SCHEMA } : {}),
  ...(env.BENCH_CACHE === "off" ? { sessionCacheSize: 0 } : {}),
});
await gh.app.listen({ port: 0, host: "127.0.0.1" });
const address = gh.app.server.address();
const port = typeof address === "object" && address ? address.port : 0;

const password = "bench-orchid-lantern-93";
const origin = { ip: "127.0.0.1", userAgent: "bench" };
let cookie: string | undefined;
if (env.BENCH_NO_USER !== "1") {
  const { issued } = await gh.accounts.register({ username: `bench${randomBytes(4).toString("hex")}`, password }, origin);
  if (!issued) throw new Error("bench: registering did not sign in");
  cookie = `${sessionCookieName(config)}=${issued.token}`;
}
const loginUsers: string[] = [];
for (let i = 0; i < Number(env.BENCH_LOGIN_USERS ?? 0); i++) {
  const username = `login${i}x${randomBytes(3).toString("hex")}`;
  await gh.accounts.register({ username, password }, origin, { signIn: false });
  loginUsers.push(username);
}
if (env.BENCH_BAN_IP) await gh.limiter.ban(env.BENCH_BAN_IP, Date.now() + 3_600_000);
process.stdout.write(`READY ${JSON.stringify({ port, cookie, loginUsers, password })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
