import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LATEST_SCHEMA } from "../../src/backup/backup-format.js";
import { ENVELOPE_MAGIC } from "../../src/backup/envelope.js";
import { exportBackup, exportBackupDetailed } from "../../src/backup/export-backup.js";
import { importBackup } from "../../src/backup/import-backup.js";
import { sealDocument } from "../../src/backup/backup-document.js";
import { systemClock } from "../../src/core/clock.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { createUserSecrets } from "../../src/core/secrets/user-secrets.js";
import { contextOf, USER_VAULT_SECRETS_COLUMN, VAULT_SECRETS_COLUMN } from "../../src/core/secrets/encrypted-columns.js";
import { uniqueViolation } from "../../src/storage/sql/dialects/unique-violation.js";
import { openStores, type StoreFixture } from "../helpers/conformance.js";
import { backendNames } from "../helpers/backends.js";
import { dumpAll, expectCode, flipByte, seed, SEED_DATA_KEY, T0, type Seeded } from "../helpers/backup.js";

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const PASSPHRASE = "correct horse battery staple";
const BACKED_UP = ["users", "settings", "api_tokens", "user_secrets", "totp_factors", "recovery_codes", "webauthn_credentials", "external_identities", "audit_events", "vault_secrets", "user_vault_secrets"] as const;

describe.each(backendNames())("backup and restore (%s)", (backendName) => {
  let source: StoreFixture;
  let seeded: Seeded;
  let plain: Buffer;
  let encrypted: Buffer;
  let sourceDump: Record<string, unknown[]>;
  const targets: StoreFixture[] = [];

  /** A fresh, migrated database; with `seeded`, it holds other data of its own. */
  async function target(withData = false): Promise<StoreFixture> {
    const fx = await openStores(backendName);
    targets.push(fx);
    if (withData) await seed(fx.database.db, { auditEvents: 3 });
    return fx;
  }

  beforeAll(async () => {
    source = await openStores(backendName);
    // More than one export page (1000) of users and audit events, more than one import batch (500).
    seeded = await seed(source.database.db, { extraUsers: 1100, auditEvents: 1205 });
    sourceDump = await dumpAll(source.database.db);
    plain = await exportBackup(source.database.db, { now: NOW });
    encrypted = await exportBackup(source.database.db, { now: NOW, passphrase: PASSPHRASE });
  });
  afterEach(async () => {
    for (const fx of targets.splice(0)) await fx.close();
  });
  afterAll(async () => source?.close());

  it("round trip: every backed-up row arrives, compared column by column", async () => {
    const fx = await target();
    const result = await importBackup(fx.database.db, plain);
    expect(result.counts).toEqual({ users: 1103, settings: 2, api_tokens: 3, user_secrets: 2, totp_factors: 1, recovery_codes: 2, webauthn_credentials: 2, external_identities: 2, audit_events: 1205, vault_secrets: 1, user_vault_secrets: 1 });
    const restored = await dumpAll(fx.database.db);
    for (const table of BACKED_UP) {
      expect(restored[table]!.length, table).toBe(sourceDump[table]!.length);
      expect(restored[table], table).toEqual(sourceDump[table]);
    }
    const root = (await fx.database.db.selectFrom("users").selectAll().where("id", "=", seeded.superadminId).executeTakeFirstOrThrow());
    expect(root).toEqual({
      id: seeded.superadminId, username: "Root-Admin", username_normalized: "root-admin", email: "Root-Admin@Example.test",
      email_normalized: "root-admin@example.test", email_verified: 1, password_hash: expect.stringMatching(/^\$argon2id\$/), role: "superadmin",
      blocked: 0, created_at: T0, updated_at: T0 + 5, last_login_at: T0 + 60_000,
    });
    const bob = restored.users!.find((u) => (u as { id: string }).id === seeded.userId);
    expect(bob).toMatchObject({ email: null, email_normalized: null, password_hash: null, blocked: 1, role: "user" });
  });

  it("the document is versioned and holds no live sessions or one-time tokens", async () => {
    const text = plain.toString("utf8");
    const doc = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(["format", "version", "createdAt", "schema", "tables", "sha256"]);
    expect(doc).toMatchObject({ format: "gatehouse-backup", version: 1, createdAt: new Date(NOW).toISOString(), schema: LATEST_SCHEMA });
    expect(Object.keys(doc.tables as object)).toEqual([...BACKED_UP]);
    for (const hash of [...seeded.sessionTokenHashes, seeded.oneTimeTokenHash]) expect(text).not.toContain(hash);
    for (const inFlight of ["oauth_transactions", "n0nce-value", "code_verifier"]) expect(text).not.toContain(inFlight);
    const { sha256: _sha256, ...withoutSum } = doc;
    expect(doc.sha256).toBe(createHash("sha256").update(JSON.stringify(withoutSum)).digest("hex"));
  });

  it("attack: backup leak — per-user secrets are in the backup as ciphertext only; after a restore they open with the same keyring", async () => {
    const text = plain.toString("utf8");
    const rows = (JSON.parse(text) as { tables: { user_secrets: { user_id: string; kind: string; secret_envelope: string }[] } }).tables.user_secrets;
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.secret_envelope).toMatch(/^v1\.k0\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    for (const secret of seeded.secretPlaintexts) {
      for (const encoding of [secret, Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url"), Buffer.from(secret).toString("hex")]) {
        expect(text).not.toContain(encoding);
      }
    }
    const fx = await target();
    await importBackup(fx.database.db, plain);
    const box = createSecretBox({ current: () => createKeyring("k0", [{ id: "k0", key: SEED_DATA_KEY }]) }, cryptoRandom);
    const secrets = createUserSecrets({ store: fx.stores.userSecrets, box, clock: systemClock, random: cryptoRandom });
    const opened = await Promise.all(rows.map((r) => secrets.get(r.user_id, r.kind)));
    expect(opened.sort()).toEqual([...seeded.secretPlaintexts].sort());
  });

  it("attack: backup leak — vault secrets (operator and users' own keys) are in the backup as ciphertext and a 4-character prefix only; a restore keeps them readable", async () => {
    const text = plain.toString("utf8");
    const doc = JSON.parse(text) as { tables: { vault_secrets: { name: string; secret_envelope: string; prefix: string }[]; user_vault_secrets: { user_id: string; name: string; secret_envelope: string }[] } };
    expect(doc.tables.vault_secrets).toHaveLength(1);
    expect(doc.tables.user_vault_secrets).toHaveLength(1);
    for (const row of [...doc.tables.vault_secrets, ...doc.tables.user_vault_secrets]) expect(row.secret_envelope).toMatch(/^v1\.k0\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    for (const secret of seeded.vaultPlaintexts) {
      for (const encoding of [secret, secret.slice(4), Buffer.from(secret).toString("base64"), Buffer.from(secret).toString("base64url"), Buffer.from(secret).toString("hex")]) {
        expect(text).not.toContain(encoding);
      }
    }
    const fx = await target();
    await importBackup(fx.database.db, plain);
    const box = createSecretBox({ current: () => createKeyring("k0", [{ id: "k0", key: SEED_DATA_KEY }]) }, cryptoRandom);
    const opened = [
      box.open(doc.tables.vault_secrets[0]!.secret_envelope, contextOf(VAULT_SECRETS_COLUMN, { name: "openai" })),
      box.open((await fx.stores.vault.findForUser(seeded.adminId, "anthropic"))!.envelope, contextOf(USER_VAULT_SECRETS_COLUMN, { user_id: seeded.adminId, name: "anthropic" })),
    ];
    expect(opened).toEqual(seeded.vaultPlaintexts);
  });

  it("export → import → export gives the same bytes (a deterministic, canonical document)", async () => {
    const fx = await target();
    await importBackup(fx.database.db, plain);
    expect((await exportBackup(fx.database.db, { now: NOW })).equals(plain)).toBe(true);
  });

  it("encrypted round trip: no plaintext in the file, the same rows after import", async () => {
    expect(encrypted.subarray(0, ENVELOPE_MAGIC.length).equals(ENVELOPE_MAGIC)).toBe(true);
    for (const needle of ["alice@example.test", "Root-Admin", "argon2id", "gatehouse-backup"]) expect(encrypted.includes(needle)).toBe(false);
    const again = await exportBackupDetailed(source.database.db, { now: NOW, passphrase: PASSPHRASE });
    expect(again.bytes.equals(encrypted)).toBe(false); // fresh salt and nonce every time
    const fx = await target();
    await importBackup(fx.database.db, encrypted, { passphrase: PASSPHRASE });
    const restored = await dumpAll(fx.database.db);
    for (const table of BACKED_UP) expect(restored[table], table).toEqual(sourceDump[table]);
  });

  it("wrong passphrase → integrity_error, missing passphrase → passphrase_required; nothing changed", async () => {
    const fx = await target(true);
    const before = await dumpAll(fx.database.db);
    await expectCode(importBackup(fx.database.db, encrypted, { passphrase: "correct horse battery stapler" }), "integrity_error");
    await expectCode(importBackup(fx.database.db, encrypted), "passphrase_required");
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });

  it("one flipped byte anywhere in a plain backup → integrity_error, nothing changed", async () => {
    const fx = await target(true);
    const before = await dumpAll(fx.database.db);
    const positions = [0, 1, 30, 200, Math.floor(plain.length / 2), plain.length - 80, plain.length - 40, plain.length - 2, plain.length - 1];
    for (const i of positions) await expectCode(importBackup(fx.database.db, flipByte(plain, i)), "integrity_error");
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });

  it("one flipped byte in the encrypted envelope (magic, version, salt, nonce, tag, body) → integrity_error", async () => {
    const fx = await target(true);
    const before = await dumpAll(fx.database.db);
    for (const i of [0, 8, 12, 30, 45, Math.floor(encrypted.length / 2), encrypted.length - 1]) {
      await expectCode(importBackup(fx.database.db, flipByte(encrypted, i), { passphrase: PASSPHRASE }), "integrity_error");
    }
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });

  it("a truncated file (plain or encrypted) is refused and nothing changes", async () => {
    const fx = await target(true);
    const before = await dumpAll(fx.database.db);
    for (const cut of [plain.length - 1, Math.floor(plain.length / 2), 10, 0]) {
      await expectCode(importBackup(fx.database.db, plain.subarray(0, cut)), "integrity_error");
    }
    for (const cut of [encrypted.length - 1, 53, 20]) {
      await expectCode(importBackup(fx.database.db, encrypted.subarray(0, cut), { passphrase: PASSPHRASE }), "integrity_error");
    }
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });

  it("a file over the size limit is refused before it is read", async () => {
    const fx = await target(true);
    const before = await dumpAll(fx.database.db);
    await expectCode(importBackup(fx.database.db, plain, { maxBytes: plain.length - 1 }), "payload_too_large");
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });

  it("live sessions, one-time tokens and provider sign-ins in flight present before the import are gone after it; none are imported", async () => {
    const fx = await target(true);
    expect((await fx.database.db.selectFrom("sessions").select("id").execute()).length).toBe(2);
    expect((await fx.database.db.selectFrom("oauth_transactions").select("id").execute()).length).toBe(1);
    const result = await importBackup(fx.database.db, plain);
    expect(result.sessionsEnded).toBe(2);
    expect(await fx.database.db.selectFrom("sessions").selectAll().execute()).toEqual([]);
    expect(await fx.database.db.selectFrom("one_time_tokens").selectAll().execute()).toEqual([]);
    expect(await fx.database.db.selectFrom("oauth_transactions").selectAll().execute()).toEqual([]);
  });

  it("records who restored as a database_imported event in the same transaction", async () => {
    const fx = await target();
    await importBackup(fx.database.db, plain, { audit: { at: NOW + 1, actorId: seeded.superadminId, ip: "203.0.113.50", userAgent: "test", requestId: "req-import" } });
    const event = await fx.database.db.selectFrom("audit_events").selectAll().where("type", "=", "database_imported").executeTakeFirstOrThrow();
    expect(event).toMatchObject({ at: NOW + 1, actor_id: seeded.superadminId, request_id: "req-import" });
    expect(JSON.parse(event.details)).toMatchObject({ sha256: createHash("sha256").update(plain).digest("hex"), bytes: plain.length, users: 1103 });
  });

  it("export refuses, naming the row, a database it could not restore (a password hash no sign-in accepts)", async () => {
    const fx = await target(true);
    await fx.database.db.updateTable("users").set({ password_hash: "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99" }).where("role", "=", "admin").execute();
    const err = await expectCode(exportBackup(fx.database.db, { now: NOW }), "invalid_backup");
    expect(err.fields).toEqual([expect.stringMatching(/^users\[\d+\]\.password_hash$/)]);
  });

  it("a failure half-way through the apply (a row only the database rejects) rolls everything back", async () => {
    const fx = await target(true);
    // A real constraint the validator cannot know about: the last audit events collide on it.
    await fx.database.db.schema.createIndex("test_poison_idx").unique().on("audit_events").column("request_id").execute();
    const doc = JSON.parse(plain.toString("utf8")) as { tables: { audit_events: { request_id: string | null }[] } };
    const events = doc.tables.audit_events;
    const last = events.at(-1)!;
    const earlier = events.slice(0, -1).reverse().find((e) => e.request_id !== null)!;
    last.request_id = earlier.request_id;
    const { sha256: _s, ...rest } = doc as unknown as Record<string, unknown>;
    const poisoned = sealDocument(JSON.stringify(rest));
    const before = await dumpAll(fx.database.db);
    const err = await importBackup(fx.database.db, poisoned).then(() => null, (e: unknown) => e);
    expect(isGatehouseError(err)).toBe(false); // it passed validation: the database refused it mid-way
    expect(uniqueViolation(err)).not.toBeNull();
    expect(await dumpAll(fx.database.db)).toEqual(before);
  });
});
