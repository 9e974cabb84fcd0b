// Gatehouse as `npm start` runs it (SQLite, or DATABASE_URL), logging at the
// shipped default level (info) into a file, plus one registered user whose
// session cookie the runner uses. Scenario switches (all optional):
//   BENCH_DATA_DIR        use this data dir (e.g. one seeded by seed-sessions.ts)
//   BENCH_PG_SCHEMA       PostgreSQL schema to run in (with DATABASE_URL)
//   BENCH_CACHE=off       no in-process session cache: every check reads the database
//   BENCH_LOGIN_USERS=n   also create n users with the bench password (login scenario)
//   BENCH_TOTP_USERS=n    also create n users with the bench password and a confirmed
//                         authenticator app (login-totp scenario; their secrets are printed)
//   BENCH_NO_USER=1       register nobody (idle footprint)
//   BENCH_BAN_IP=ip       ban this IP once ready (rate-limited rejection scenario)
//   BENCH_LOG_LEVEL       log level (default: the shipped default, info)
//   BENCH_PUBLIC_URL      the portal's URL (default http://127.0.0.1; the proxy scenario
//                         moves it to localhost so 127.0.0.1 is a proxied host)
// RATE_LIMIT_*, BRUTE_FORCE_*, AUTO_BAN_*, HASH_*, TRUSTED_PROXIES, GATEHOUSE_CONFIG
// and UPSTREAM_URL pass straight through to the configuration.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSync } from "otplib";
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
// Users with an authenticator app: one Argon2id hash shared by all (written directly, so setting up a
// thousand accounts does not take a thousand hashes), each app confirmed with the code of the step
// before now, which leaves this step and the next for the load (a step is accepted once).
const totpUsers: { username: string; secret: string }[] = [];
const totpCount = Number(env.BENCH_TOTP_USERS ?? 0);
if (totpCount > 0) {
  const first = `totp0x${randomBytes(3).toString("hex")}`;
  const { user: template } = await gh.accounts.register({ username: first, password }, origin, { signIn: false });
  const db = gh.database.db;
  const { password_hash } = await db.selectFrom("users").select("password_hash").where("id", "=", template.id).executeTakeFirstOrThrow();
  const now = Date.now();
  const rows = Array.from({ length: totpCount - 1 }, (_, i) => {
    const username = `totp${i + 1}x${randomBytes(3).toString("hex")}`;
    return { id: randomUUID(), username, username_normalized: username, email: null, email_normalized: null, email_verified: 0, password_hash, role: "user", blocked: 0, created_at: now, updated_at: now, last_login_at: null };
  });
  for (let i = 0; i < rows.length; i += 500) await db.insertInto("users").values(rows.slice(i, i + 500)).execute();
  const users = [{ id: template.id, username: first }, ...rows.map((r) => ({ id: r.id, username: r.username }))];
  for (const u of users) {
    const { secret } = await gh.totp.enrol({ id: u.id, username: u.username });
    const code = generateSync({ secret, epoch: Math.floor(Date.now() / 1000) - 30 });
    await gh.totp.confirm({ id: u.id, email: null }, code, origin);
    totpUsers.push({ username: u.username, secret });
  }
}
if (env.BENCH_BAN_IP) await gh.limiter.ban(env.BENCH_BAN_IP, Date.now() + 3_600_000);
process.stdout.write(`READY ${JSON.stringify({ port, cookie, loginUsers, totpUsers, password })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
