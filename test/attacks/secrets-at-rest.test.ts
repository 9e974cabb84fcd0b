import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeKeyringFile } from "../../src/config/keyring-file.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { userSecretContext } from "../../src/core/secrets/user-secrets.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";

/** A seed as TOTP will store it (base32), unique per test run. */
const seedOf = () => randomBytes(20).toString("base64").replace(/[^A-Z2-7]/g, "").padEnd(32, "Q").slice(0, 32);
/** Every encoding a careless implementation might store a secret in. */
const encodings = (secret: string) => [secret, secret.toLowerCase(), Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url"), Buffer.from(secret).toString("hex")];

describe.each(backendNames())("attack: secrets at rest (%s)", (backendName) => {
  let h: Harness;
  let dir: string;
  const K0 = randomBytes(32);
  const K1 = randomBytes(32);
  let victim: string;
  let attacker: string;
  const victimSeed = seedOf();
  const attackerSeed = seedOf();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-at-rest-"));
    const keyring = join(dir, "keyring.json");
    writeKeyringFile(keyring, { active: "k1", keys: [{ id: "k0", key: K0.toString("base64"), created: null }, { id: "k1", key: K1.toString("base64"), created: null }] });
    h = await startHarness(backendName, { KEYRING_FILE: keyring });
    victim = (await h.account("user", `victim${randomBytes(3).toString("hex")}`)).id;
    attacker = (await h.account("user", `attacker${randomBytes(3).toString("hex")}`)).id;
    await h.gh.userSecrets.set(victim, "totp", victimSeed);
    await h.gh.userSecrets.set(attacker, "totp", attackerSeed);
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Everything the database holds, as an attacker with a dump would see it. */
  async function databaseDump(): Promise<string> {
    if (h.backend.name === "sqlite") {
      const file = join(h.backend.env.GATEHOUSE_DATA_DIR!, "gatehouse.db");
      return [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString("latin1")).join("\n");
    }
    const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(h.gh.database.db);
    const parts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.table(name)} t`.execute(h.gh.database.db);
      parts.push(...rows.rows.map((r) => r.row));
    }
    return parts.join("\n");
  }

  it("database dump: no stored secret is in it in any encoding, only v1 envelopes under the active key", async () => {
    const dump = await databaseDump();
    for (const secret of [victimSeed, attackerSeed]) for (const e of encodings(secret)) expect(dump).not.toContain(e);
    const rows = await h.gh.database.db.selectFrom("user_secrets").select(["user_id", "secret_envelope"]).execute();
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const r of rows) {
      expect(envelopeKeyId(r.secret_envelope)).toBe("k1");
      expect(dump).toContain(r.secret_envelope);
    }
    expect(await h.gh.userSecrets.get(victim, "totp")).toBe(victimSeed);
  });

  it("backup leak: the backup file holds the secrets as ciphertext only", async () => {
    const { exportBackup } = await import("../../src/backup/export-backup.js");
    const text = (await exportBackup(h.gh.database.db, { now: Date.now() })).toString("utf8");
    expect(text).toContain('"user_secrets":[');
    for (const secret of [victimSeed, attackerSeed]) for (const e of encodings(secret)) expect(text).not.toContain(e);
  });

  it("AAD swap: the attacker's own envelope copied into the victim's row does not open as the victim's secret", async () => {
    const mine = (await h.gh.stores.userSecrets.find(attacker, "totp"))!.envelope;
    const theirs = (await h.gh.stores.userSecrets.find(victim, "totp"))!.envelope;
    await h.gh.database.db.updateTable("user_secrets").set({ secret_envelope: mine }).where("user_id", "=", victim).execute();
    const err = await h.gh.userSecrets.get(victim, "totp").catch((e: unknown) => e);
    expect(isGatehouseError(err, "secret_unreadable")).toBe(true);
    expect(String((err as Error).cause)).toContain(`${victim}/totp`);
    await h.gh.database.db.updateTable("user_secrets").set({ secret_envelope: theirs }).where("user_id", "=", victim).execute();
    expect(await h.gh.userSecrets.get(victim, "totp")).toBe(victimSeed);
  });

  it("AAD swap: the attacker's row re-pointed at the victim (user_id changed) does not open either", async () => {
    const row = (await h.gh.stores.userSecrets.find(attacker, "totp"))!;
    const saved = (await h.gh.stores.userSecrets.find(victim, "totp"))!;
    await h.gh.database.db.deleteFrom("user_secrets").where("id", "=", saved.id).execute();
    await h.gh.database.db.updateTable("user_secrets").set({ user_id: victim }).where("id", "=", row.id).execute();
    const err = await h.gh.userSecrets.get(victim, "totp").catch((e: unknown) => e);
    expect(isGatehouseError(err, "secret_unreadable")).toBe(true);
    // The same envelope under another kind of the same user is refused too.
    await h.gh.database.db.updateTable("user_secrets").set({ user_id: attacker, kind: "recovery" }).where("id", "=", row.id).execute();
    expect(isGatehouseError(await h.gh.userSecrets.get(attacker, "recovery").catch((e: unknown) => e), "secret_unreadable")).toBe(true);
    await h.gh.database.db.updateTable("user_secrets").set({ kind: "totp" }).where("id", "=", row.id).execute();
    await h.gh.database.db.insertInto("user_secrets").values({ id: saved.id, user_id: victim, kind: "totp", secret_envelope: saved.envelope, created_at: saved.createdAt, updated_at: saved.updatedAt }).execute();
    expect(await h.gh.userSecrets.get(attacker, "totp")).toBe(attackerSeed);
  });

  it("log harvesting: the background re-encryption at start logs counts, key ids and row ids, never a secret, an envelope or a key", async () => {
    // One secret under the old key k0 (re-encrypted at start) and one under a key nobody holds (reported, left alone).
    const oldSeed = seedOf();
    const lostSeed = seedOf();
    const oldBox = createSecretBox({ current: () => createKeyring("k0", [{ id: "k0", key: K0 }]) }, cryptoRandom);
    const lostBox = createSecretBox({ current: () => createKeyring("k9", [{ id: "k9", key: randomBytes(32) }]) }, cryptoRandom);
    const oldUser = (await h.account("user", `old${randomBytes(3).toString("hex")}`)).id;
    const lostUser = (await h.account("user", `lost${randomBytes(3).toString("hex")}`)).id;
    const oldEnvelope = oldBox.seal(oldSeed, userSecretContext(oldUser, "totp"));
    const lostEnvelope = lostBox.seal(lostSeed, userSecretContext(lostUser, "totp"));
    const now = Date.now();
    await h.gh.database.db.insertInto("user_secrets").values([
      { id: randomUUID(), user_id: oldUser, kind: "totp", secret_envelope: oldEnvelope, created_at: now, updated_at: now },
      { id: randomUUID(), user_id: lostUser, kind: "totp", secret_envelope: lostEnvelope, created_at: now, updated_at: now },
    ]).execute();
    const from = h.logs.lines.length;
    h.gh.start();
    await expect.poll(() => h.logs.lines.slice(from).some((l) => l.includes("cannot be decrypted with the configured keys")), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => h.logs.lines.slice(from).some((l) => l.includes("re-encrypted stored secrets under the active key")), { timeout: 20_000 }).toBe(true);
    const logged = h.logs.lines.slice(from).join("\n");
    expect(logged).toContain(`${lostUser}/totp`);
    expect(logged).toContain(`sealed under key \\"k9\\"`);
    for (const secret of [oldSeed, lostSeed, victimSeed, attackerSeed]) for (const e of encodings(secret)) expect(logged).not.toContain(e);
    for (const envelope of [oldEnvelope, lostEnvelope]) expect(logged).not.toContain(envelope.split(".")[3]!.slice(0, 16));
    for (const key of [K0, K1]) for (const e of [key.toString("base64"), key.toString("hex"), key.toString("base64url")]) expect(h.logs.text()).not.toContain(e);
    expect(await h.gh.userSecrets.get(oldUser, "totp")).toBe(oldSeed);
    expect(envelopeKeyId((await h.gh.stores.userSecrets.find(oldUser, "totp"))!.envelope)).toBe("k1");
    expect((await h.gh.stores.userSecrets.find(lostUser, "totp"))!.envelope).toBe(lostEnvelope);
  });
});
