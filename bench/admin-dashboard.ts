// npx tsx bench/admin-dashboard.ts [--users 100000] [--events 100000] [--runs 20] [--postgres]
// Seeds N users (and audit events over the last 7 days) in bulk, then measures
// the server render time of the admin pages through the real app (inject: the
// whole Fastify pipeline, session check and SQL included, no network), and the
// page weights. Prints a JSON summary; `--out file` also writes it.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { sql } from "kysely";
import pg from "pg";
import pino from "pino";
import { createGatehouse } from "../src/compose.js";
import { loadConfig } from "../src/config/load-config.js";
import { encodeUserCursor } from "../src/core/users/user-list.js";
import { ASSETS } from "../src/web/assets.js";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "100000" },
    events: { type: "string", default: "100000" },
    runs: { type: "string", default: "20" },
    postgres: { type: "boolean", default: false },
    "pg-url": { type: "string", default: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test" },
    out: { type: "string" },
  },
});
const USERS = Number(values.users);
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const PASSWORD = "bench-orchid-lantern-93";
const HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-admin-"));
const schema = values.postgres ? `bench_admin_${randomBytes(4).toString("hex")}` : undefined;
if (schema) {
  const c = new pg.Client({ connectionString: values["pg-url"] });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
}
const config = loadConfig({
  NODE_ENV: "test",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  // The bench signs its admin up through the API.
  REGISTRATION: "open",
  ...(schema ? { DATABASE_URL: values["pg-url"] } : {}),
});
const gh = await createGatehouse({ config, logger: pino({ level: "silent" }), ...(schema ? { schema } : {}) });
const db = gh.database.db;

try {
  // Users: one per ~5 minutes over the last year; 1 % admins, 2 % blocked.
  const now = Date.now();
  const seedStart = performance.now();
  const BATCH = 1000;
  for (let start = 0; start < USERS; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(USERS, start + BATCH); i++) {
      const name = `user${String(i).padStart(6, "0")}`;
      const at = now - 365 * 86_400_000 + Math.floor((i / USERS) * 365 * 86_400_000);
      rows.push({
        id: randomUUID(),
        username: name,
        username_normalized: name,
        email: `${name}@example.com`,
        email_normalized: `${name}@example.com`,
        email_verified: 1,
        password_hash: HASH,
        role: i % 100 === 0 ? "admin" : "user",
        blocked: i % 50 === 7 ? 1 : 0,
        created_at: at,
        updated_at: at,
        last_login_at: i % 3 === 0 ? now - (i % 1000) * 60_000 : null,
      });
    }
    await db.insertInto("users").values(rows).execute();
  }
  // Audit events: sign-ins (90 %) and failures over the last 7 days.
  for (let start = 0; start < EVENTS; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(EVENTS, start + BATCH); i++) {
      rows.push({
        id: randomUUID(),
        type: i % 10 === 0 ? "login_failure" : "login_success",
        at: now - Math.floor((i / EVENTS) * 7 * 86_400_000),
        user_id: null,
        actor_id: null,
        ip: `198.51.100.${i % 250}`,
        user_agent: "Mozilla/5.0 (X11; Linux x86_64) bench",
        details: "{}",
        request_id: null,
      });
    }
    await db.insertInto("audit_events").values(rows).execute();
  }
  const seedMs = performance.now() - seedStart;
  // What autovacuum would have done by now: statistics and the visibility map (index-only scans).
  await sql`${sql.raw(schema ? "vacuum analyze" : "analyze")}`.execute(db);

  // The admin who looks: a real account (argon2 password), promoted.
  await gh.app.inject({ method: "POST", url: "/api/auth/register", headers: { origin: config.publicUrl }, payload: { username: "benchadmin", password: PASSWORD, email: "benchadmin@example.com" } });
  await db.updateTable("users").set({ role: "superadmin" }).where("username_normalized", "=", "benchadmin").execute();
  gh.sessions.forgetAll();
  const login = await gh.app.inject({ method: "POST", url: "/api/auth/login", headers: { origin: config.publicUrl }, payload: { username: "benchadmin", password: PASSWORD } });
  const cookie = login.cookies.map((c) => `${c.name}=${c.value}`).join("; ");

  // A deep page: the position 90 % down the list.
  const deepRow = await db.selectFrom("users").select(["id", "created_at"]).orderBy("created_at", "desc").orderBy("id", "desc").offset(Math.floor(USERS * 0.9)).limit(1).executeTakeFirstOrThrow();
  const deep = encodeUserCursor({ createdAt: deepRow.created_at, id: deepRow.id });

  const pages: Record<string, string> = {
    "/admin (overview)": "/admin",
    "/admin/users (first page)": "/admin/users",
    "/admin/users?q=user0123 (prefix search, 100 hits)": "/admin/users?q=user0123",
    "/admin/users?q=user (prefix search, every user)": "/admin/users?q=user",
    "/admin/users?q=zzz (no match)": "/admin/users?q=zzz",
    "/admin/users?status=blocked": "/admin/users?status=blocked",
    "/admin/users?role=admin&q=user09": "/admin/users?role=admin&q=user09",
    "/admin/users (deep page, 90 %)": `/admin/users?after=${deep}`,
    "/admin/audit (first page)": "/admin/audit",
    "/admin/audit?type=login_failure": "/admin/audit?type=login_failure",
  };
  const results: { page: string; status: number; medianMs: number; p95Ms: number; htmlBytes: number; htmlGzipBytes: number }[] = [];
  for (const [label, url] of Object.entries(pages)) {
    const times: number[] = [];
    let status = 0;
    let body = "";
    for (let r = 0; r < RUNS + 3; r++) {
      const t = performance.now();
      const res = await gh.app.inject({ method: "GET", url, headers: { cookie } });
      const ms = performance.now() - t;
      status = res.statusCode;
      body = res.body;
      if (r >= 3) times.push(ms); // 3 warm-up runs
    }
    times.sort((a, b) => a - b);
    results.push({
      page: label,
      status,
      medianMs: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10,
      p95Ms: Math.round(times[Math.min(times.length - 1, Math.floor(times.length * 0.95))]! * 10) / 10,
      htmlBytes: Buffer.byteLength(body),
      htmlGzipBytes: gzipSync(body).length,
    });
  }
  // The overview's queries one by one (median of RUNS), to see where its time goes.
  const H = 3_600_000;
  const first = Math.floor(Date.now() / H) * H - 167 * H;
  const parts: Record<string, () => Promise<unknown>> = {
    "users.count()": () => gh.stores.users.count(),
    "sessions.countActive()": () => gh.stores.sessions.countActive(Date.now(), config.sessions.idleMs),
    "audit.countByHour(7 days, hour by hour)": () => gh.stores.audit.countByHour(["login_success", "login_failure"], first, Date.now()),
    "audit.countByHour(7 days, grouped)": () => gh.stores.audit.countByHour(["login_success", "login_failure"], first),
    "audit.countSince(login_failure, 24 h)": () => gh.stores.audit.countSince("login_failure", Date.now() - 24 * H),
    "users.countMatching(q=user, cap 10001)": () => gh.stores.users.countMatching({ q: "user" }, 10_001),
  };
  const queries: Record<string, number> = {};
  for (const [label, run] of Object.entries(parts)) {
    const times: number[] = [];
    for (let r = 0; r < RUNS + 2; r++) {
      const t = performance.now();
      await run();
      if (r >= 2) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    queries[label] = Math.round(times[Math.floor(times.length / 2)]! * 10) / 10;
  }
  const assets = [...ASSETS.values()].map((a) => ({ name: a.name, bytes: a.body.length, gzipBytes: gzipSync(a.body).length }));
  const summary = { backend: schema ? "postgres" : "sqlite", users: USERS, auditEvents: EVENTS, seedSeconds: Math.round(seedMs / 100) / 10, runs: RUNS, node: process.version, results, queriesMedianMs: queries, assets };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await gh.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (schema) {
    const c = new pg.Client({ connectionString: values["pg-url"] });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}
