// Key-rotation cost: seal/open per secret, and a full rewrap of N stored secrets.
//   npx tsx bench/rewrap-secrets.ts [--rows 10000] [--backend sqlite|postgres]
// PostgreSQL uses GATEHOUSE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) in a fresh schema.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { cryptoRandom } from "../src/core/random.js";
import { createKeyring } from "../src/core/secrets/keyring.js";
import { createSecretBox } from "../src/core/secrets/secret-box.js";
import { userSecretContext } from "../src/core/secrets/user-secrets.js";
import { openDatabase } from "../src/storage/sql/open-database.js";
import { rewrapSecrets } from "../src/storage/sql/rewrap-secrets.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "10000" }, backend: { type: "string", default: "sqlite" } } });
const rows = Number(values.rows);
const K0 = { id: "k0", key: randomBytes(32) };
const K1 = { id: "k1", key: randomBytes(32) };
const before = createSecretBox({ current: () => createKeyring("k0", [K0]) }, cryptoRandom);
const after = createSecretBox({ current: () => createKeyring("k1", [K0, K1]) }, cryptoRandom);

// Micro: one seal and one open of a 32-character seed.
const ctx = userSecretContext(randomUUID(), "totp");
const seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
let t = process.hrtime.bigint();
const sample: string[] = [];
for (let i = 0; i < 20_000; i++) sample.push(before.seal(seed, ctx));
const sealUs = Number(process.hrtime.bigint() - t) / 1000 / 20_000;
t = process.hrtime.bigint();
for (const e of sample) before.open(e, ctx);
const openUs = Number(process.hrtime.bigint() - t) / 1000 / 20_000;

const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-rewrap-bench-"));
const pgUrl = process.env.GATEHOUSE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `gh_bench_rewrap_${process.pid}`;
if (values.backend === "postgres") {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  await c.query(`create schema ${schema}`);
  await c.end();
}
const database = await openDatabase({ databaseUrl: values.backend === "postgres" ? pgUrl : null, dataDir, ...(values.backend === "postgres" ? { schema } : {}) });
try {
  const now = Date.now();
  for (let i = 0; i < rows; i += 500) {
    const users = Array.from({ length: Math.min(500, rows - i) }, (_, j) => {
      const id = randomUUID();
      const name = `bench${i + j}`;
      return { id, username: name, username_normalized: name, email: null, email_normalized: null, email_verified: 0, password_hash: null, role: "user", blocked: 0, created_at: now, updated_at: now, last_login_at: null };
    });
    await database.db.insertInto("users").values(users).execute();
    await database.db.insertInto("user_secrets").values(users.map((u) => ({ id: randomUUID(), user_id: u.id, kind: "totp", secret_envelope: before.seal(seed, userSecretContext(u.id, "totp")), created_at: now, updated_at: now }))).execute();
  }
  t = process.hrtime.bigint();
  const [report] = await rewrapSecrets(database.db, after);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(JSON.stringify({ backend: values.backend, rows, sealMicros: +sealUs.toFixed(2), openMicros: +openUs.toFixed(2), rewrapMs: Math.round(ms), rowsPerSecond: Math.round((rows / ms) * 1000), rewrapped: report?.rewrapped }));
} finally {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
  if (values.backend === "postgres") {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}
