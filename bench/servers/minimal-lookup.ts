// Baseline for the session check on the database: the least a signed-in
// check on Node + SQLite can do. Bare Fastify, the session cookie read from
// the Cookie header, SHA-256 of the token, ONE prepared better-sqlite3
// statement (the session joined with its user, by the unique token hash) and
// the user's JSON. Nothing else: no rate limit, no headers, no logging.
// The tables have the shape of Gatehouse's `users` and `sessions` (same
// columns, unique and secondary indexes, WAL), in a fresh SQLite file holding
// BENCH_SESSIONS sessions (default 1000; one user per 10 sessions).
//   BENCH_LRU=on  an in-process LRU (a Map, 10,000 entries, 5 s freshness,
//                 as Gatehouse's session cache) in front of the statement.
// Prints READY {"port", "cookie"}.
import { hash, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import Fastify from "fastify";

const COOKIE = "gatehouse_session";
const total = Number(process.env.BENCH_SESSIONS ?? 1000);
const lru = process.env.BENCH_LRU === "on";
const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-lookup-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

const db = new Database(join(dir, "lookup.db"));
db.pragma("journal_mode = WAL");
db.pragma("foreign_keys = ON");
db.exec(`
  create table users (
    id varchar(36) primary key, username varchar(64) not null, username_normalized varchar(64) not null unique,
    email varchar(255), email_normalized varchar(255) unique, email_verified integer not null default 0,
    password_hash varchar(512), role varchar(16) not null default 'user', blocked integer not null default 0,
    created_at bigint not null, updated_at bigint not null, last_login_at bigint);
  create index users_role_idx on users (role, created_at);
  create index users_created_idx on users (created_at, id);
  create index users_blocked_idx on users (blocked, created_at, id);
  create table sessions (
    id varchar(36) primary key, token_hash varchar(64) not null unique,
    user_id varchar(36) not null references users(id) on delete cascade,
    created_at bigint not null, last_seen_at bigint not null, expires_at bigint not null,
    remember integer not null default 0, ip varchar(64) not null, user_agent varchar(512) not null, reauth_at bigint);
  create index sessions_user_id_idx on sessions (user_id, created_at);
  create index sessions_expires_at_idx on sessions (expires_at);
`);

const sha256 = (token: string) => hash("sha256", token, "hex");
const now = Date.now();
const token = randomBytes(32).toString("base64url");
const insertUser = db.prepare(
  "insert into users (id, username, username_normalized, email, email_normalized, password_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
);
const insertSession = db.prepare(
  "insert into sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent) values (?, ?, ?, ?, ?, ?, '127.0.0.1', 'bench')",
);
db.transaction(() => {
  const users: string[] = [];
  for (let i = 0; i < Math.max(1, Math.ceil(total / 10)); i++) {
    const id = randomUUID();
    insertUser.run(id, `User${i}`, `user${i}`, `user${i}@example.com`, `user${i}@example.com`, "$argon2id$v=19$m=19456,t=2,p=1$x$y", now, now);
    users.push(id);
  }
  for (let i = 0; i < total; i++) {
    insertSession.run(randomUUID(), i === Math.floor(total / 2) ? sha256(token) : randomBytes(32).toString("hex"), users[i % users.length]!, now, now, now + 86_400_000);
  }
})();

const lookup = db.prepare(
  "select u.id, u.username, u.email, u.email_verified, u.role, u.blocked, u.created_at, u.last_login_at, s.expires_at " +
    "from sessions s join users u on u.id = s.user_id where s.token_hash = ?",
);
interface Found {
  id: string;
  username: string;
  email: string | null;
  email_verified: number;
  role: string;
  blocked: number;
  created_at: number;
  last_login_at: number | null;
  expires_at: number;
}
interface PublicUser {
  id: string;
  username: string;
  email: string | null;
  emailVerified: boolean;
  role: string;
  blocked: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

function readUser(tokenHash: string): PublicUser | null {
  const row = lookup.get(tokenHash) as Found | undefined;
  if (!row || row.expires_at <= Date.now() || row.blocked) return null;
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    emailVerified: row.email_verified === 1,
    role: row.role,
    blocked: false,
    createdAt: new Date(row.created_at).toISOString(),
    lastLoginAt: row.last_login_at === null ? null : new Date(row.last_login_at).toISOString(),
  };
}

// The LRU: a Map in insertion order, a hit moved to the end, the oldest entry dropped when full.
const MAX = 10_000;
const FRESH_MS = 5_000;
const cache = new Map<string, { user: PublicUser; until: number }>();
function cachedUser(tokenHash: string): PublicUser | null {
  const hit = cache.get(tokenHash);
  if (hit && hit.until > Date.now()) {
    cache.delete(tokenHash);
    cache.set(tokenHash, hit);
    return hit.user;
  }
  const user = readUser(tokenHash);
  if (user) {
    cache.delete(tokenHash);
    cache.set(tokenHash, { user, until: Date.now() + FRESH_MS });
    if (cache.size > MAX) cache.delete(cache.keys().next().value!);
  }
  return user;
}

function sessionToken(header: string | undefined): string | null {
  if (!header) return null;
  const at = header.indexOf(`${COOKIE}=`);
  if (at === -1) return null;
  const end = header.indexOf(";", at);
  return header.slice(at + COOKIE.length + 1, end === -1 ? undefined : end);
}

const app = Fastify({ logger: false });
app.get("/api/auth/me", async (request, reply) => {
  const t = sessionToken(request.headers.cookie);
  const tokenHash = t ? sha256(t) : null;
  const user = tokenHash ? (lru ? cachedUser(tokenHash) : readUser(tokenHash)) : null;
  if (!user) return reply.code(401).send({ error: "unauthenticated" });
  return { user };
});
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0, cookie: `${COOKIE}=${token}` })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
