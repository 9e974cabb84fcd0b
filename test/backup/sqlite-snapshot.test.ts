import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importBackup } from "../../src/backup/import-backup.js";
import { checkSqliteFile, exportSqliteFile, snapshotSqlite } from "../../src/backup/sqlite-snapshot.js";
import { LATEST_SCHEMA } from "../../src/backup/backup-format.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { openStores } from "../helpers/conformance.js";
import { backendNames } from "../helpers/backends.js";
import { dumpAll, expectCode, seed } from "../helpers/backup.js";

describe("SQLite raw snapshot (online backup API) and its checks", () => {
  let dir: string;
  let live: OpenDatabase;
  let liveFile: string;
  let snapshot: string;
  let liveDump: Record<string, unknown[]>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-snapshot-"));
    live = await openDatabase({ databaseUrl: null, dataDir: join(dir, "data") });
    liveFile = join(dir, "data", "gatehouse.db");
    await seed(live.db, { extraUsers: 20, auditEvents: 30 });
    liveDump = await dumpAll(live.db);
    snapshot = join(dir, "snap.db");
    // Taken while the database is open and in use by this process (WAL mode).
    await snapshotSqlite(liveFile, snapshot);
  });
  afterAll(async () => {
    await live?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes a private, self-contained copy that passes checkSqliteFile", async () => {
    expect(statSync(snapshot).mode & 0o777).toBe(0o600);
    expect(readFileSync(snapshot).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");
    expect(await checkSqliteFile(snapshot)).toEqual({ schema: LATEST_SCHEMA });
    const copy = new SQLite(snapshot, { readonly: true });
    try {
      expect(copy.pragma("journal_mode", { simple: true })).toBe("delete");
      expect((copy.prepare("select count(*) as n from users").get() as { n: number }).n).toBe(23);
    } finally {
      copy.close();
    }
  });

  it("refuses to overwrite an existing destination", async () => {
    await expect(snapshotSqlite(liveFile, snapshot)).rejects.toThrow(/already exists/);
  });

  it.each(backendNames())("a snapshot restores (through the validated import) into %s, sessions excluded", async (target) => {
    const fx = await openStores(target);
    try {
      const { bytes, counts } = await exportSqliteFile(snapshot, Date.UTC(2026, 0, 3));
      expect(counts.users).toBe(23);
      await importBackup(fx.database.db, bytes);
      const restored = await dumpAll(fx.database.db);
      for (const table of ["users", "settings", "api_tokens", "audit_events"]) expect(restored[table], table).toEqual(liveDump[table]);
      expect(restored.sessions).toEqual([]);
    } finally {
      await fx.close();
    }
  });

  it("a random file, a text file, an empty file and a missing file → integrity_error", async () => {
    const random = join(dir, "random.bin");
    writeFileSync(random, randomBytes(8192));
    const text = join(dir, "text.db");
    writeFileSync(text, "SQLite format 2\n".padEnd(4096, "x"));
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    for (const file of [random, text, empty, join(dir, "missing.db")]) await expectCode(checkSqliteFile(file), "integrity_error");
  });

  it("a corrupted header byte → integrity_error", async () => {
    const bad = join(dir, "bad-header.db");
    const bytes = readFileSync(snapshot);
    bytes[3] = bytes[3]! ^ 0x20;
    writeFileSync(bad, bytes);
    await expectCode(checkSqliteFile(bad), "integrity_error");
  });

  it("corrupted pages (valid header) fail PRAGMA integrity_check → integrity_error", async () => {
    const bad = join(dir, "bad-pages.db");
    const bytes = readFileSync(snapshot);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    for (let page = 1; page * pageSize < bytes.length; page++) bytes.fill(0xa5, page * pageSize + 8, page * pageSize + 64);
    writeFileSync(bad, bytes);
    await expectCode(checkSqliteFile(bad), "integrity_error");
    await expectCode(exportSqliteFile(bad, Date.now()), "integrity_error");
  });

  it("a file from another schema version → invalid_backup, before anything is read from it", async () => {
    const old = join(dir, "old-schema.db");
    copyFileSync(snapshot, old);
    const db = new SQLite(old);
    db.prepare("delete from kysely_migration where name = ?").run(LATEST_SCHEMA);
    db.close();
    const err = await expectCode(checkSqliteFile(old), "invalid_backup");
    expect(err.fields).toEqual(["schema"]);
    const plain = join(dir, "not-gatehouse.db");
    const other = new SQLite(plain);
    other.exec("create table t (x integer)");
    other.close();
    await expectCode(checkSqliteFile(plain), "invalid_backup");
  });
});
