import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { BACKUP_TABLES, CLEARED_TABLES, LATEST_SCHEMA } from "../../src/backup/backup-format.js";
import { exportBackup } from "../../src/backup/export-backup.js";
import { importBackup } from "../../src/backup/import-backup.js";
import { columnsOf, SPEC_SCHEMA } from "../../src/backup/table-specs.js";
import { openStores, type StoreFixture } from "../helpers/conformance.js";
import { backendNames } from "../helpers/backends.js";
import { dumpAll, seed } from "../helpers/backup.js";

const fixtures: StoreFixture[] = [];
async function open(name: "sqlite" | "postgres"): Promise<StoreFixture> {
  const fx = await openStores(name);
  fixtures.push(fx);
  return fx;
}
afterEach(async () => {
  for (const fx of fixtures.splice(0)) await fx.close();
});

/** Columns of every table of the live schema, Kysely's bookkeeping excluded. */
async function liveColumns(fx: StoreFixture): Promise<Record<string, string[]>> {
  const db = fx.database.db;
  const rows =
    fx.backend.name === "sqlite"
      ? (await sql<{ table: string; column: string }>`select m.name as "table", p.name as "column" from sqlite_master m, pragma_table_info(m.name) p where m.type = 'table' and m.name not like 'sqlite_%' and m.name not like 'kysely_%'`.execute(db)).rows
      : (await sql<{ table: string; column: string }>`select table_name as "table", column_name as "column" from information_schema.columns where table_schema = current_schema() and table_name not like 'kysely_%'`.execute(db)).rows;
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.table] ??= []).push(r.column);
  for (const cols of Object.values(out)) cols.sort();
  return out;
}

describe.each(backendNames())("backup specs cover the live schema (%s)", (backendName) => {
  it("every column of every backed-up table is in the specs, and every other table is deliberately excluded", async () => {
    expect(SPEC_SCHEMA, "a new migration: update src/backup/table-specs.ts and SPEC_SCHEMA").toBe(LATEST_SCHEMA);
    const live = await liveColumns(await open(backendName));
    for (const table of BACKUP_TABLES) expect(live[table], table).toEqual([...columnsOf(table)].sort());
    expect(Object.keys(live).sort()).toEqual([...CLEARED_TABLES].sort());
  });
});

describe.runIf(backendNames().includes("postgres"))("cross-dialect restore", () => {
  it("SQLite → PostgreSQL → SQLite keeps every backed-up row identical", async () => {
    const sqliteA = await open("sqlite");
    await seed(sqliteA.database.db, { extraUsers: 40, auditEvents: 60 });
    const original = await dumpAll(sqliteA.database.db);
    const now = Date.UTC(2026, 2, 1);

    const pg = await open("postgres");
    const toPg = await importBackup(pg.database.db, await exportBackup(sqliteA.database.db, { now }));
    expect(toPg.counts).toEqual({ users: 43, settings: 2, api_tokens: 3, user_secrets: 2, totp_factors: 1, recovery_codes: 2, webauthn_credentials: 2, external_identities: 2, audit_events: 60, vault_secrets: 1, user_vault_secrets: 1 });
    const onPg = await dumpAll(pg.database.db);

    const sqliteB = await open("sqlite");
    await importBackup(sqliteB.database.db, await exportBackup(pg.database.db, { now }));
    const back = await dumpAll(sqliteB.database.db);
    for (const table of BACKUP_TABLES) {
      expect(onPg[table], `${table} on PostgreSQL`).toEqual(original[table]);
      expect(back[table], `${table} back on SQLite`).toEqual(original[table]);
    }
  });
});
