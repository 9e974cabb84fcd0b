// Seeds a SQLite data dir with BENCH_SESSIONS sessions (one user per 10
// sessions) in bulk: it migrates the database through Gatehouse, creates one
// real user and session as templates, then clones them with better-sqlite3
// prepared statements inside large transactions. Prints
// `SEEDED {"cookies": [...]}` with BENCH_SAMPLE valid session cookies spread
// over the table (the rest of the rows carry random token hashes).
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { generateToken, hashToken } from "../../src/core/crypto/tokens.js";
import { cryptoRandom } from "../../src/core/random.js";

const env = process.env;
const dataDir = env.BENCH_DATA_DIR;
if (!dataDir) throw new Error("seed-sessions: BENCH_DATA_DIR is required");
const total = Number(env.BENCH_SESSIONS ?? 1000);
const sample = Math.min(total, Number(env.BENCH_SAMPLE ?? 1000));
const started = Date.now();

const config = loadConfig({
  NODE_ENV: "production",
  GATEHOUSE_ALLOW_INSECURE_HTTP: "true",
  SECRET_KEY: env.BENCH_SECRET_KEY ?? randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dataDir,
  PUBLIC_URL: "http://127.0.0.1",
});
const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
const origin = { ip: "127.0.0.1", userAgent: "bench" };
const { user } = await gh.accounts.register({ username: `seed${randomBytes(4).toString("hex")}`, password: "bench-orchid-lantern-93" }, origin, {
  signIn: false,
});
const first = await gh.sessions.create(user.id, origin, false, ["pwd"]);
await gh.close();

const db = new Database(join(dataDir, "gatehouse.db"));
db.pragma("synchronous = OFF");
const userRow = db.prepare("select * from users where id = ?").get(user.id) as Record<string, unknown>;
const sessionRow = db.prepare("select * from sessions where id = ?").get(first.session.id) as Record<string, unknown>;
const insertOf = (table: string, row: Record<string, unknown>) => {
  const cols = Object.keys(row);
  return db.prepare(`insert into ${table} (${cols.join(", ")}) values (${cols.map((c) => `@${c}`).join(", ")})`);
};
const insertUser = insertOf("users", userRow);
const insertSession = insertOf("sessions", sessionRow);

const userIds = [user.id];
const userCount = Math.max(1, Math.ceil(total / 10));
db.transaction(() => {
  for (let i = 1; i < userCount; i++) {
    const id = randomUUID();
    const name = `seeded${i}`;
    insertUser.run({ ...userRow, id, username: name, username_normalized: name, email: null, email_normalized: null });
    userIds.push(id);
  }
})();

const cookies = [first.token];
const every = Math.max(1, Math.floor(total / sample));
const BATCH = 100_000;
for (let start = 1; start < total; start += BATCH) {
  db.transaction(() => {
    for (let i = start; i < Math.min(total, start + BATCH); i++) {
      let tokenHash: string;
      if (i % every === 0 && cookies.length < sample) {
        const token = generateToken(cryptoRandom);
        cookies.push(token);
        tokenHash = hashToken(token);
      } else {
        tokenHash = randomBytes(32).toString("hex");
      }
      insertSession.run({ ...sessionRow, id: randomUUID(), token_hash: tokenHash, user_id: userIds[i % userIds.length] });
    }
  })();
}
db.close();
const names = ["gatehouse_session"];
process.stdout.write(`SEEDED ${JSON.stringify({ cookies: cookies.map((t) => `${names[0]}=${t}`), users: userCount, ms: Date.now() - started })}\n`);
