import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteFileOf } from "../../src/cli/configured-database.js";
import { loadConfig } from "../../src/config/load-config.js";
import { openDatabase } from "../../src/storage/sql/open-database.js";

// docs/configuration.md, DATABASE_URL: `sqlite:<path>` and `sqlite://<path>` name the file after the prefix;
// absolute paths are used as is, relative ones are resolved against the working directory (not the data dir).
const KEY = "3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf0246813579bdf02468ace";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-sqlite-url-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const configFor = (url: string) => loadConfig({ GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: KEY, DATABASE_URL: url });

describe("DATABASE_URL with the sqlite: forms documented in docs/configuration.md", () => {
  it.each(["sqlite:", "sqlite://"])("%s<absolute path> is accepted and opens exactly that file", async (prefix) => {
    const file = join(dir, "elsewhere", "gh.db");
    const config = configFor(`${prefix}${file}`);
    expect(sqliteFileOf(config)).toBe(file);
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      expect(database.dialect).toBe("sqlite");
      expect(existsSync(file)).toBe(true);
      expect(existsSync(join(dir, "data", "gatehouse.db"))).toBe(false);
    } finally {
      await database.db.destroy();
    }
  });

  it("a relative path is relative to the working directory, not the data dir", () => {
    expect(sqliteFileOf(configFor("sqlite:gh.db"))).toBe("gh.db");
    expect(sqliteFileOf(configFor("sqlite://var/gh.db"))).toBe("var/gh.db");
  });

  it("without DATABASE_URL the file is gatehouse.db in the data dir; other schemes are refused", () => {
    expect(sqliteFileOf(loadConfig({ GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: KEY }))).toBe(join(dir, "data", "gatehouse.db"));
    expect(() => configFor("mysql://db/x")).toThrow(/DATABASE_URL must be a postgres:\/\/ URL or sqlite:<path>/);
    expect(() => configFor("file:gh.db")).toThrow(/DATABASE_URL/);
  });
});
