// Gatehouse as `npm start` runs it (SQLite or DATABASE_URL), with logging off,
// plus one registered user whose session cookie the runner uses.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";

const config = loadConfig({
  NODE_ENV: "production",
  GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), "gatehouse-bench-")),
  LOG_LEVEL: "silent",
  PUBLIC_URL: "http://127.0.0.1",
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  // Scenario overrides (limits, hashing capacity) pass straight through.
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(RATE_LIMIT_|BRUTE_FORCE_|AUTO_BAN_|HASH_|TRUSTED_PROXIES$)/.test(k))),
});
const gh = await createGatehouse({ config, logger: pino({ level: "silent" }), ...(process.env.BENCH_PG_SCHEMA ? { schema: process.env.BENCH_PG_SCHEMA } : {}) });
await gh.app.listen({ port: 0, host: "127.0.0.1" });
const address = gh.app.server.address();
const port = typeof address === "object" && address ? address.port : 0;

const password = "bench-orchid-lantern-93";
const username = `bench${randomBytes(4).toString("hex")}`;
const res = await fetch(`http://127.0.0.1:${port}/api/auth/register`, {
  method: "POST",
  headers: { "content-type": "application/json", origin: config.publicUrl },
  body: JSON.stringify({ username, password }),
});
const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
process.stdout.write(`READY ${JSON.stringify({ port, cookie })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
