import { chmodSync, closeSync, existsSync, openSync, readSync } from "node:fs";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { GatehouseError } from "../core/errors.js";
import type { Database } from "../storage/sql/database.js";
import { LATEST_SCHEMA } from "./backup-format.js";
import { exportBackupDetailed, type ExportResult } from "./export-backup.js";

/** The 16 bytes every SQLite 3 database file starts with. */
export const SQLITE_HEADER = Buffer.from("SQLite format 3\u0000", "latin1");

/**
 * Writes a consistent raw copy of a live SQLite database with SQLite's online
 * backup API (other connections keep reading and writing meanwhile). The copy
 * is switched to a self-contained rollback journal and made mode 0600.
 * Refuses to overwrite `dest`.
 */
export async function snapshotSqlite(file: string, dest: string): Promise<void> {
  if (existsSync(dest)) throw new Error(`${dest} already exists; refusing to overwrite it`);
  const source = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    await source.backup(dest);
  } finally {
    source.close();
  }
  chmodSync(dest, 0o600);
  const copy = new SQLite(dest, { fileMustExist: true });
  try {
    copy.pragma("journal_mode = DELETE");
  } finally {
    copy.close();
  }
}

function readHeader(path: string): Buffer {
  const fd = openSync(path, "r");
  try {
    const header = Buffer.alloc(100);
    const read = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** What {@link checkSqliteFile} found in a good file. */
export interface SqliteFileCheck {
  /** The latest migration recorded in the file. */
  schema: string;
}

/**
 * Checks a raw SQLite file before anything is restored from it: the
 * 100-byte header starts with "SQLite format 3\0", `PRAGMA integrity_check`
 * answers `ok`, foreign keys hold, and its latest migration is ours.
 * Opens the file read-only. Throws `integrity_error` (not SQLite, damaged)
 * or `invalid_backup` (another schema version).
 */
export async function checkSqliteFile(path: string): Promise<SqliteFileCheck> {
  let header: Buffer;
  try {
    header = readHeader(path);
  } catch (err) {
    throw new GatehouseError("integrity_error", { fields: ["file"], cause: err });
  }
  if (header.length < 100 || !header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw new GatehouseError("integrity_error", { fields: ["header"] });
  }
  let schema: string | undefined;
  let file: SQLite.Database | undefined;
  try {
    file = new SQLite(path, { readonly: true, fileMustExist: true });
    const integrity = file.pragma("integrity_check") as { integrity_check: string }[];
    const foreignKeys = file.pragma("foreign_key_check") as unknown[];
    if (integrity.length !== 1 || integrity[0]?.integrity_check !== "ok" || foreignKeys.length > 0) {
      throw new GatehouseError("integrity_error", { fields: ["integrity_check"] });
    }
    const hasTable = file.prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'").get();
    if (hasTable) {
      const row = file.prepare("select name from kysely_migration order by name desc limit 1").get() as { name?: unknown } | undefined;
      if (typeof row?.name === "string") schema = row.name;
    }
  } catch (err) {
    if (err instanceof GatehouseError) throw err;
    throw new GatehouseError("integrity_error", { fields: ["file"], cause: err });
  } finally {
    file?.close();
  }
  if (schema !== LATEST_SCHEMA) throw new GatehouseError("invalid_backup", { fields: ["schema"] });
  return { schema };
}

/**
 * Turns a checked raw SQLite file into a portable backup document (read-only,
 * one consistent transaction), so restoring it takes exactly the validated
 * path of {@link importBackup} — into SQLite or PostgreSQL alike.
 */
export async function exportSqliteFile(path: string, now: number | Date): Promise<ExportResult> {
  await checkSqliteFile(path);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(path, { readonly: true, fileMustExist: true }) }) });
  try {
    return await exportBackupDetailed(db, { now });
  } finally {
    await db.destroy();
  }
}
