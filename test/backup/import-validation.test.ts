import { readFileSync } from "node:fs";
import { identifyPasswordHash } from "../../src/core/passwords/legacy/identify-hash.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealDocument } from "../../src/backup/backup-document.js";
import { exportBackup } from "../../src/backup/export-backup.js";
import { importBackup } from "../../src/backup/import-backup.js";
import type { ErrorCode } from "../../src/core/errors.js";
import { openStores, type StoreFixture } from "../helpers/conformance.js";
import { backendNames } from "../helpers/backends.js";
import { ARGON, dumpAll, expectCode, seed } from "../helpers/backup.js";

type Row = Record<string, unknown>;
interface Doc {
  tables: { users: Row[]; settings: Row[]; api_tokens: Row[]; user_secrets: Row[]; totp_factors: Row[]; recovery_codes: Row[]; webauthn_credentials: Row[]; external_identities: Row[]; audit_events: Row[]; vault_secrets: Row[]; user_vault_secrets: Row[] } & Record<string, unknown>;
  [key: string]: unknown;
}

describe.each(backendNames())("import refuses invalid backups with nothing changed (%s)", (backendName) => {
  let source: StoreFixture;
  let target: StoreFixture;
  let docText: string;
  let before: Record<string, unknown[]>;

  /** The backup document without its checksum, as an object to tamper with. */
  const doc = (): Doc => {
    const { sha256: _sha, ...rest } = JSON.parse(docText) as Doc;
    return rest;
  };
  /** A crafted file with a VALID checksum: what a deliberate attacker would send. */
  const crafted = (d: Doc | string): Buffer => sealDocument(typeof d === "string" ? d : JSON.stringify(d));
  /** Text of the untampered document without checksum, for raw-text edits. */
  const text = (): string => JSON.stringify(doc());

  async function refused(file: Buffer, code: ErrorCode, field?: string | RegExp, opts: Parameters<typeof importBackup>[2] = {}) {
    const err = await expectCode(importBackup(target.database.db, file, opts), code);
    if (field !== undefined) expect(err.fields?.some((f) => (typeof field === "string" ? f === field : field.test(f))), JSON.stringify(err.fields)).toBe(true);
    expect(await dumpAll(target.database.db)).toEqual(before);
  }
  const withUser = (patch: Row): Doc => {
    const d = doc();
    Object.assign(d.tables.users[0]!, patch);
    return d;
  };

  beforeAll(async () => {
    source = await openStores(backendName);
    await seed(source.database.db);
    docText = (await exportBackup(source.database.db, { now: Date.UTC(2026, 0, 2) })).toString("utf8");
    target = await openStores(backendName);
    await seed(target.database.db, { auditEvents: 2 });
    before = await dumpAll(target.database.db);
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
  });

  it("the untampered crafted copy is accepted (so every refusal below is about its one change)", async () => {
    const probe = await openStores(backendName);
    try {
      expect((await importBackup(probe.database.db, crafted(doc()))).counts.users).toBe(3);
    } finally {
      await probe.close();
    }
  });

  it("a backup holding accounts imported from other apps (bcrypt, werkzeug, Django, argon2i hashes) restores", async () => {
    const hashes = readFileSync(new URL("../fixtures/legacy-hashes/hashes.jsonl", import.meta.url), "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { hash: string }).hash)
      .filter((hash) => identifyPasswordHash(hash).ok);
    // One hash of each scheme.
    const perScheme = new Map(hashes.map((hash) => [(identifyPasswordHash(hash) as { scheme: string }).scheme, hash]));
    expect(perScheme.size).toBe(8);
    for (const hash of perScheme.values()) {
      const probe = await openStores(backendName);
      try {
        expect((await importBackup(probe.database.db, crafted(withUser({ password_hash: hash })))).counts.users).toBe(3);
      } finally {
        await probe.close();
      }
    }
  });

  it("a __proto__ key in a row (prototype pollution) → invalid_backup", async () => {
    const t = text().replace('"role":"user"', '"role":"user","__proto__":{"role":"superadmin"}');
    await refused(crafted(t), "invalid_backup", "__proto__");
  });

  it("an escaped \\u005f_proto__ key, a constructor key, a prototype key → invalid_backup", async () => {
    await refused(crafted(text().replace('{"format"', '{"\\u005f_proto__":{},"format"')), "invalid_backup", "__proto__");
    await refused(crafted(text().replace('"role":"admin"', '"role":"admin","constructor":{"prototype":{"isAdmin":true}}')), "invalid_backup");
  });

  it("__proto__ inside the JSON text of an audit event's details or a setting → invalid_backup", async () => {
    const d = doc();
    d.tables.audit_events[0]!.details = '{"__proto__":{"isAdmin":true}}';
    await refused(crafted(d), "invalid_backup", "audit_events[0].details");
    const s = doc();
    s.tables.settings[0]!.value = '{"a":{"constructor":{}}}';
    await refused(crafted(s), "invalid_backup", "settings[0].value");
  });

  it("a plaintext secret smuggled into user_secrets (not an envelope), an orphan or a duplicate secret → invalid_backup", async () => {
    for (const value of ["JBSWY3DPEHPK3PXP", "v1.k0.short.AAAA", "v2.k0.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA", ""]) {
      const d = doc();
      d.tables.user_secrets[0]!.secret_envelope = value;
      await refused(crafted(d), "invalid_backup", "user_secrets[0].secret_envelope");
    }
    const orphan = doc();
    orphan.tables.user_secrets[0]!.user_id = "00000000-0000-4000-8000-00000000dead";
    await refused(crafted(orphan), "invalid_backup", "user_secrets[0].user_id");
    const twice = doc();
    twice.tables.user_secrets[1] = { ...twice.tables.user_secrets[0]!, id: "00000000-0000-4000-8000-000000000abc" };
    await refused(crafted(twice), "invalid_backup", "user_secrets[1]");
  });

  it("attack: a plaintext vault secret smuggled in (not an envelope), a long \"prefix\", a bad name, an orphan or a repeated user key → invalid_backup", async () => {
    for (const value of ["sk-plaintext-api-key-0123456789", "v1.k0.short.AAAA", ""]) {
      const d = doc();
      d.tables.vault_secrets[0]!.secret_envelope = value;
      await refused(crafted(d), "invalid_backup", "vault_secrets[0].secret_envelope");
      const u = doc();
      u.tables.user_vault_secrets[0]!.secret_envelope = value;
      await refused(crafted(u), "invalid_backup", "user_vault_secrets[0].secret_envelope");
    }
    const prefix = doc();
    prefix.tables.vault_secrets[0]!.prefix = "sk-plaintext-api-key";
    await refused(crafted(prefix), "invalid_backup", "vault_secrets[0].prefix");
    const name = doc();
    name.tables.vault_secrets[0]!.name = "Not A Name";
    await refused(crafted(name), "invalid_backup", "vault_secrets[0].name");
    const orphan = doc();
    orphan.tables.user_vault_secrets[0]!.user_id = "00000000-0000-4000-8000-00000000dead";
    await refused(crafted(orphan), "invalid_backup", "user_vault_secrets[0].user_id");
    const twice = doc();
    twice.tables.user_vault_secrets[1] = { ...twice.tables.user_vault_secrets[0]!, id: "00000000-0000-4000-8000-000000000abc" };
    await refused(crafted(twice), "invalid_backup", "user_vault_secrets[1]");
  });

  it("a plain recovery code smuggled in as its hash, an orphan or a repeated (user, lookup) code → invalid_backup", async () => {
    for (const value of ["abcd-efgh-ijkl-mnop-qrst", "efghijklmnopqrst", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g", ""]) {
      const d = doc();
      d.tables.recovery_codes[0]!.code_hash = value;
      await refused(crafted(d), "invalid_backup", "recovery_codes[0].code_hash");
    }
    const orphan = doc();
    orphan.tables.recovery_codes[0]!.user_id = "00000000-0000-4000-8000-00000000dead";
    await refused(crafted(orphan), "invalid_backup", "recovery_codes[0].user_id");
    const twice = doc();
    twice.tables.recovery_codes[1] = { ...twice.tables.recovery_codes[0]!, id: "00000000-0000-4000-8000-000000000abc" };
    await refused(crafted(twice), "invalid_backup", "recovery_codes[1]");
  });

  it("attack: a restore that links one provider identity to a second account (takeover through the backup) → invalid_backup", async () => {
    const d = doc();
    const [first, second] = d.tables.external_identities;
    Object.assign(second!, { issuer: first!.issuer, subject: first!.subject });
    await refused(crafted(d), "invalid_backup", "external_identities[1]");
  });

  it("an orphan identity, a second identity of one provider for one account, a bad provider id, a smuggled provider token → invalid_backup", async () => {
    const orphan = doc();
    orphan.tables.external_identities[0]!.user_id = "00000000-0000-4000-8000-00000000dead";
    await refused(crafted(orphan), "invalid_backup", "external_identities[0].user_id");
    const twice = doc();
    twice.tables.external_identities[1] = { ...twice.tables.external_identities[0]!, id: "00000000-0000-4000-8000-000000000abc", issuer: "https://other.example", subject: "other" };
    await refused(crafted(twice), "invalid_backup", "external_identities[1]");
    const provider = doc();
    provider.tables.external_identities[0]!.provider = "Google!";
    await refused(crafted(provider), "invalid_backup", "external_identities[0].provider");
    const token = doc();
    token.tables.external_identities[0]!.access_token = "ya29.a0AfH6SM";
    await refused(crafted(token), "invalid_backup", "external_identities[0].access_token");
  });

  it("provider sign-ins in flight smuggled into the tables → invalid_backup (they are never imported)", async () => {
    const d = doc();
    d.tables.oauth_transactions = [{ id: "t", state_hash: "0".repeat(64) }];
    await refused(crafted(d), "invalid_backup", "tables.oauth_transactions");
  });

  it("an unknown column (mass-assigned privilege flag) → invalid_backup naming it", async () => {
    await refused(crafted(withUser({ is_admin: 1 })), "invalid_backup", "users[0].is_admin");
  });

  it("a role outside user/admin/superadmin → invalid_backup", async () => {
    await refused(crafted(withUser({ role: "root" })), "invalid_backup", "users[0].role");
    await refused(crafted(withUser({ role: "Superadmin" })), "invalid_backup", "users[0].role");
  });

  it("a plaintext, unrecognised or absurd-cost password hash → invalid_backup", async () => {
    for (const hash of [
      "hunter2hunter2",
      "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99",
      "$2b$31$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
      "pbkdf2:sha256:900000000$salt$" + "ab".repeat(32),
      ARGON.replace("m=19456", "m=4194304"),
      `${ARGON}$extra`,
      "",
    ]) {
      await refused(crafted(withUser({ password_hash: hash })), "invalid_backup", "users[0].password_hash");
    }
  });

  it("wrong types, a missing column, an over-long value, a NUL → invalid_backup", async () => {
    await refused(crafted(withUser({ email_verified: true })), "invalid_backup", "users[0].email_verified");
    await refused(crafted(withUser({ created_at: "2026-01-01" })), "invalid_backup", "users[0].created_at");
    await refused(crafted(withUser({ created_at: 1.5 })), "invalid_backup", "users[0].created_at");
    await refused(crafted(withUser({ blocked: 2 })), "invalid_backup", "users[0].blocked");
    await refused(crafted(withUser({ username: "x".repeat(65), username_normalized: "x".repeat(65) })), "invalid_backup", "users[0].username");
    await refused(crafted(withUser({ username: "nul\u0000", username_normalized: "nul\u0000" })), "invalid_backup", "users[0].username");
    const d = doc();
    delete d.tables.users[0]!.role;
    await refused(crafted(d), "invalid_backup", "users[0].role");
    const t = doc();
    t.tables.api_tokens[0]!.token_hash = "not-a-sha256";
    await refused(crafted(t), "invalid_backup", "api_tokens[0].token_hash");
  });

  it("duplicate usernames, inconsistent normalized forms, a token without its user → invalid_backup", async () => {
    const dup = doc();
    Object.assign(dup.tables.users[1]!, { username: dup.tables.users[0]!.username, username_normalized: dup.tables.users[0]!.username_normalized });
    await refused(crafted(dup), "invalid_backup", "users[1].username_normalized");
    await refused(crafted(withUser({ username_normalized: "someone-else" })), "invalid_backup", "users[0].username_normalized");
    const orphan = doc();
    orphan.tables.api_tokens[0]!.user_id = "00000000-0000-4000-8000-000000000000";
    await refused(crafted(orphan), "invalid_backup", "api_tokens[0].user_id");
  });

  it("another format, version or schema, or extra members → invalid_backup", async () => {
    await refused(crafted({ ...doc(), format: "other" }), "invalid_backup", "format");
    await refused(crafted({ ...doc(), version: 2 }), "invalid_backup", "version");
    await refused(crafted({ ...doc(), schema: "0002_audit_request_id" }), "invalid_backup", "schema");
    await refused(crafted({ ...doc(), createdAt: "yesterday" }), "invalid_backup", "createdAt");
    await refused(crafted({ ...doc(), extra: true }), "invalid_backup", "extra");
  });

  it("sessions or one-time tokens smuggled into the tables → invalid_backup (they are never imported)", async () => {
    const d = doc();
    d.tables.sessions = [{ id: "s", token_hash: "0".repeat(64), user_id: d.tables.users[0]!.id }];
    await refused(crafted(d), "invalid_backup", "tables.sessions");
  });

  it("more rows than allowed → payload_too_large", async () => {
    await refused(crafted(doc()), "payload_too_large", "tables.users", { maxRows: { users: 2 } });
  });

  it("a checksummed file that is not a JSON object, or not JSON at all → invalid_backup", async () => {
    await refused(crafted('{"format":"gatehouse-backup","tables":[}'), "invalid_backup", "document");
    await refused(crafted('{"format":"gatehouse-backup"}'), "invalid_backup");
  });
});
