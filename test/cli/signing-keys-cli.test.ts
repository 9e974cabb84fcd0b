import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { gatehouse, type Run } from "../helpers/run-gatehouse.js";

describe.each(backendNames())("gatehouse keys rotate --signing / retire-signing / status: the identity JWT's signing keys (%s)", (backendName) => {
  let backend: Backend;
  let dir: string;
  let base: Record<string, string>;
  const secretKey = randomBytes(32).toString("hex");

  async function db<T>(fn: (database: OpenDatabase) => Promise<T>): Promise<T> {
    const config = loadConfig({ NODE_ENV: "test", ...base });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  }
  const rows = () => db((d) => d.db.selectFrom("signing_keys").selectAll().orderBy("created_at").execute());
  /** No run ever prints a stored envelope or key material. */
  const run = async (args: string[], env: Record<string, string> = base): Promise<Run> => {
    const r = await gatehouse(args, env, dir);
    for (const row of await rows()) {
      expect(`${r.stdout}${r.stderr}`).not.toContain(row.private_jwk.slice(-40));
      expect(`${r.stdout}${r.stderr}`).not.toContain((JSON.parse(row.public_jwk) as { x: string }).x);
    }
    return r;
  };

  beforeAll(async () => {
    backend = await createBackend(backendName);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-signing-cli-"));
    mkdirSync(join(dir, "etc"), { mode: 0o700 });
    base = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: secretKey, GATEHOUSE_DATA_DIR: join(dir, "data"), IDENTITY_JWT: "on" };
    if (backend.schema) base.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}`;
    // The schema exists (a server would have migrated it).
    await db(async () => undefined);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend?.cleanup();
  });

  it("rotate --signing makes the first key, then a new one and retires the old (audited); status lists both; retire-signing deletes one at once", async () => {
    const empty = await run(["keys", "status"]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain("signing keys (IDENTITY_JWT on): none\n");

    const first = await run(["keys", "rotate", "--signing"]);
    expect(first.code, first.stderr).toBe(0);
    const kid1 = first.stdout.trim();
    expect(first.stderr).toContain("there was no active key");
    const second = await run(["keys", "rotate", "--signing"]);
    expect(second.code, second.stderr).toBe(0);
    const kid2 = second.stdout.trim();
    expect(second.stderr).toContain(`retired ${kid1}`);
    expect((await rows()).map((r) => [r.kid, r.state])).toEqual([
      [kid1, "retired"],
      [kid2, "active"],
    ]);

    const status = await run(["keys", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`  ${kid1}  ES256  retired \\S+, published until \\S+  created `));
    expect(status.stdout).toMatch(new RegExp(`  ${kid2}  ES256  active  created `));
    expect(status.stdout).toContain("signing_keys.private_jwk: 2 under k0");

    const audit = await db((d) => d.db.selectFrom("audit_events").select(["type", "details"]).where("type", "=", "key_rotated").execute());
    expect(audit.map((a) => JSON.parse(a.details) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ kind: "signing", from: null, to: kid1, via: "cli" }),
      expect.objectContaining({ kind: "signing", from: kid1, to: kid2, via: "cli" }),
    ]);

    const retired = await run(["keys", "retire-signing", kid1]);
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stdout.trim()).toBe(kid2);
    expect((await rows()).map((r) => r.kid)).toEqual([kid2]);
    // The active key itself: a new one replaces it first.
    const replaced = await run(["keys", "retire-signing", kid2]);
    expect(replaced.code, replaced.stderr).toBe(0);
    const kid3 = replaced.stdout.trim();
    expect(kid3).not.toBe(kid2);
    expect((await rows()).map((r) => [r.kid, r.state])).toEqual([[kid3, "active"]]);

    const unknown = await run(["keys", "retire-signing", "no-such-kid"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no signing key "no-such-kid"');
  });

  it("usage: --signing goes with rotate only; rotate without it is still the data keys' rotation", async () => {
    const bad = await run(["keys", "status", "--signing"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--signing goes with rotate only");
    const noKeyring = await run(["keys", "rotate"]);
    expect(noKeyring.code).toBe(2);
    expect(noKeyring.stderr).toContain("KEYRING_FILE is not set");
    const missing = await run(["keys", "retire-signing"]);
    expect(missing.code).toBe(2);
  });

  it("a data-key rotation re-seals the signing keys' private JWKs under the new data key", async () => {
    const withKeyring = { ...base, KEYRING_FILE: join(dir, "etc", "keyring.json") };
    const r = await run(["keys", "rotate"], withKeyring);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/signing_keys\.private_jwk: 1 row\(s\), 1 re-encrypted, 0 unreadable/);
    expect((await rows()).map((row) => envelopeKeyId(row.private_jwk))).toEqual(["k1"]);
    // And the key still opens: a new rotation under the rotated keyring works and status is clean.
    const s = await run(["keys", "status"], withKeyring);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain("signing_keys.private_jwk: 1 under k1");
  });
});
