import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { migrations } from "../../src/storage/sql/migrations/index.js";
import { gatehouse } from "../helpers/run-gatehouse.js";

describe("gatehouse migrate (SQLite; PostgreSQL with two roles: test/integration/database-roles.test.ts)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-migrate-cli-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = { NODE_ENV: "test", GATEHOUSE_DATA_DIR: join(dir, "data") };

  it("applies every migration to a new database, then has nothing to do", async () => {
    const first = await gatehouse(["migrate"], env, dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const names = Object.keys(migrations).sort();
    expect(first.stdout).toBe(`SQLite ${join(dir, "data", "gatehouse.db")}: applied ${names.length} migration(s): ${names.join(", ")}\n`);
    expect(existsSync(join(dir, "data", "gatehouse.db"))).toBe(true);
    const second = await gatehouse(["migrate"], env, dir);
    expect(second.stdout).toContain("up to date, nothing to apply");
  });

  it("explains itself with --help and refuses arguments (exit 2)", async () => {
    const help = await gatehouse(["migrate", "--help"], env, dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("DATABASE_MIGRATION_URL");
    const extra = await gatehouse(["migrate", "now"], env, dir);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("migrate takes no arguments");
  });

  it("a DATABASE_MIGRATION_URL without a PostgreSQL DATABASE_URL is a configuration error, not a half-migration", async () => {
    const r = await gatehouse(["migrate"], { ...env, DATABASE_MIGRATION_URL: "postgres://owner@127.0.0.1:1/none" }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DATABASE_MIGRATION_URL needs DATABASE_URL to be a postgres:// URL too");
  });
});
