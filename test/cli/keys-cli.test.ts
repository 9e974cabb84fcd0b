import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyringSource } from "../../src/config/keyring-file.js";
import { loadConfig } from "../../src/config/load-config.js";
import { systemClock } from "../../src/core/clock.js";
import { deriveKey } from "../../src/core/crypto/derive-key.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { createUserSecrets, type UserSecrets } from "../../src/core/secrets/user-secrets.js";
import { createSqlStores } from "../../src/storage/sql/create-sql-stores.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { newUser } from "../helpers/conformance.js";
import { gatehouse, type Run } from "../helpers/run-gatehouse.js";

interface KeyringDoc {
  active: string;
  keys: { id: string; key: string }[];
}

describe.each(backendNames())("gatehouse keys rotate / status (%s)", (backendName) => {
  let backend: Backend;
  let dir: string;
  let base: Record<string, string>;
  let keyring: string;
  const secretKey = randomBytes(32).toString("hex");
  const seeds = new Map<string, string>();

  /** The keys the CLI printed must never include key material. */
  const run = async (args: string[], env: Record<string, string>): Promise<Run> => {
    const r = await gatehouse(args, env, dir);
    const printed = `${r.stdout}${r.stderr}`;
    if (existsSync(keyring)) for (const k of (JSON.parse(readFileSync(keyring, "utf8")) as KeyringDoc).keys) expect(printed).not.toContain(k.key);
    for (const seed of seeds.values()) expect(printed).not.toContain(seed);
    return r;
  };
  const withKeyring = () => ({ ...base, KEYRING_FILE: keyring });
  const readRing = () => JSON.parse(readFileSync(keyring, "utf8")) as KeyringDoc;

  /** The database and the per-user secrets exactly as a server with `env` sees them. */
  async function open<T>(env: Record<string, string>, fn: (secrets: UserSecrets, database: OpenDatabase) => Promise<T>): Promise<T> {
    const config = loadConfig({ NODE_ENV: "test", ...env });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      const stores = createSqlStores(database.db);
      const box = createSecretBox(keyringSource(config.keyring), cryptoRandom);
      return await fn(createUserSecrets({ store: stores.userSecrets, box, clock: systemClock, random: cryptoRandom }), database);
    } finally {
      await database.close();
    }
  }
  const keyIds = (database: OpenDatabase) => database.db.selectFrom("user_secrets").select("secret_envelope").execute().then((rows) => rows.map((r) => envelopeKeyId(r.secret_envelope)));

  beforeAll(async () => {
    backend = await createBackend(backendName);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-keys-cli-"));
    mkdirSync(join(dir, "etc"), { mode: 0o700 });
    keyring = join(dir, "etc", "keyring.json");
    base = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: secretKey, GATEHOUSE_DATA_DIR: join(dir, "data") };
    if (backend.schema) base.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}`;
    // Secrets stored before any keyring file exists: under k0, the key derived from SECRET_KEY.
    await open(base, async (secrets, database) => {
      for (let i = 0; i < 3; i++) {
        const user = newUser(`keyholder${i}`);
        await createSqlStores(database.db).users.insert(user);
        const seed = `seed${i}${randomBytes(10).toString("hex")}`;
        seeds.set(user.id, seed);
        await secrets.set(user.id, "totp", seed);
      }
      expect(await keyIds(database)).toEqual(["k0", "k0", "k0"]);
    });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend?.cleanup();
  });

  it("status without KEYRING_FILE: the derived key and how many secrets it holds", async () => {
    const r = await run(["keys", "status"], base);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("keyring: derived from SECRET_KEY (KEYRING_FILE is not set)\nactive key: k0\nkeys: k0\nuser_secrets.secret_envelope: 3 under k0\nmail_outbox.payload: none\nsigning_keys.private_jwk: none\nvault_secrets.secret_envelope: none\nuser_vault_secrets.secret_envelope: none\nsigning keys (IDENTITY_JWT off): none\n");
  });

  it("rotate without KEYRING_FILE is a usage error that says what to set; nothing is written", async () => {
    const r = await run(["keys", "rotate"], base);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("KEYRING_FILE is not set");
    expect(existsSync(keyring)).toBe(false);
  });

  it("the first rotate creates the keyring (mode 0600) holding the derived k0 and a new active k1, re-encrypts every secret, audits key_rotated", async () => {
    const r = await run(["keys", "rotate"], withKeyring());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("k1\n");
    expect(r.stderr).toContain(`Created ${keyring} (mode 0600): active key k1 (was k0); keys k0, k1`);
    expect(r.stderr).toContain("user_secrets.secret_envelope: 3 row(s), 3 re-encrypted, 0 unreadable");
    expect(statSync(keyring).mode & 0o777).toBe(0o600);
    expect(existsSync(`${keyring}.lock`)).toBe(false);
    const ring = readRing();
    expect(ring.active).toBe("k1");
    expect(ring.keys.map((k) => k.id)).toEqual(["k0", "k1"]);
    expect(Buffer.from(ring.keys[0]!.key, "base64").equals(deriveKey(secretKey, "secrets-at-rest"))).toBe(true);
    expect(Buffer.from(ring.keys[1]!.key, "base64")).toHaveLength(32);
    await open(withKeyring(), async (secrets, database) => {
      expect(await keyIds(database)).toEqual(["k1", "k1", "k1"]);
      for (const [userId, seed] of seeds) expect(await secrets.get(userId, "totp")).toBe(seed);
      const events = await database.db.selectFrom("audit_events").selectAll().where("type", "=", "key_rotated").execute();
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0]!.details)).toEqual({ from: "k0", to: "k1", created: true, rewrapped: 3, unreadable: 0, via: "cli" });
      expect(events[0]).toMatchObject({ ip: "local", user_agent: "gatehouse-cli", actor_id: null });
      for (const k of ring.keys) expect(events[0]!.details).not.toContain(k.key);
    });
  });

  it("a second rotate adds k2 and keeps k0 and k1; status shows every secret under k2", async () => {
    const r = await run(["keys", "rotate"], withKeyring());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("k2\n");
    expect(r.stderr).toContain(`Updated ${keyring}`);
    expect(readRing().keys.map((k) => k.id)).toEqual(["k0", "k1", "k2"]);
    const s = await run(["keys", "status"], withKeyring());
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toBe(`keyring: ${keyring}\nactive key: k2\nkeys: k0, k1, k2\nuser_secrets.secret_envelope: 3 under k2\nmail_outbox.payload: none\nsigning_keys.private_jwk: none\nvault_secrets.secret_envelope: none\nuser_vault_secrets.secret_envelope: none\nsigning keys (IDENTITY_JWT off): none\n`);
  });

  it("the old keys can then be removed from the file: everything still decrypts", async () => {
    const ring = readRing();
    writeFileSync(keyring, JSON.stringify({ format: "gatehouse-keyring", version: 1, active: "k2", keys: ring.keys.filter((k) => k.id === "k2") }), { mode: 0o600 });
    await open(withKeyring(), async (secrets) => {
      for (const [userId, seed] of seeds) expect(await secrets.get(userId, "totp")).toBe(seed);
    });
  });

  it("an old keyring (SECRET_KEY alone) fails closed: reads refused with secret_unreadable; status exits 1 naming the missing key", async () => {
    await open(base, async (secrets) => {
      const [userId] = [...seeds.keys()];
      const err = await secrets.get(userId!, "totp").catch((e: unknown) => e);
      expect(isGatehouseError(err, "secret_unreadable")).toBe(true);
    });
    const s = await run(["keys", "status"], base);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain("user_secrets.secret_envelope: 3 under k2 (NOT IN THE KEYRING)");
    expect(s.stderr).toContain("3 stored secret(s) are under a key this keyring does not hold");
    const rw = await run(["keys", "rewrap"], base);
    expect(rw.code).toBe(1);
    expect(rw.stderr).toContain("3 secret(s) in user_secrets.secret_envelope cannot be decrypted with this keyring and were left as they are");
    expect(rw.stderr).toContain(`sealed under key "k2", which is not in the keyring (known: k0)`);
  });

  it("refuses while another rotation holds the lock, and refuses a keyring its group can read; the file is unchanged", async () => {
    const before = readFileSync(keyring, "utf8");
    writeFileSync(`${keyring}.lock`, "");
    const locked = await run(["keys", "rotate"], withKeyring());
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain(`another "gatehouse keys" command holds ${keyring}.lock`);
    rmSync(`${keyring}.lock`);
    chmodSync(keyring, 0o640);
    const open640 = await run(["keys", "rotate"], withKeyring());
    expect(open640.code).toBe(1);
    expect(open640.stderr).toContain(`it holds the data keys: chmod 600 ${keyring}`);
    expect(readFileSync(keyring, "utf8")).toBe(before);
    chmodSync(keyring, 0o600);
  });
});
