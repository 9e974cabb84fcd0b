import { createHash } from "node:crypto";
import SQLite from "better-sqlite3";
import pg from "pg";
import { importInvalid } from "../core/user-import/import-invalid.js";
import { MAX_IMPORT_ROWS, OTHER_VALUE, type ImportTable, type ImportValue } from "../core/user-import/import-table.js";
import { isPostgresUrl } from "../storage/sql/open-database.js";
import { CliError, EXIT } from "./cli-io.js";

/** A table name, optionally schema-qualified: `user`, `public.accounts`. Nothing else reaches the SQL text. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** The checked name, each part quoted (`"public"."user"`): a reserved word such as `user` stays a name. */
export function quotedTableName(name: string): string {
  if (!TABLE_NAME.test(name)) throw new CliError(`--table must be a table name such as users or public.users (letters, digits and _; optionally schema-qualified)`, EXIT.usage);
  return name
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A database value as an import value: text, numbers and booleans as they are, big integers and dates as text. */
function importValue(value: unknown): ImportValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) {
    try {
      return utf8.decode(value); // a hash stored as bytes
    } catch {
      return OTHER_VALUE;
    }
  }
  return OTHER_VALUE;
}

/** What a table read gives: the rows, and the SHA-256 and size of the rows as JSON lines (what the audit records). */
export interface SourceTable {
  table: ImportTable;
  kind: "sqlite" | "postgres";
  sha256: string;
  bytes: number;
}

function fingerprint(table: ImportTable): { sha256: string; bytes: number } {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const row of table.rows) {
    const line = `${JSON.stringify(Object.fromEntries(row))}\n`;
    hash.update(line);
    bytes += Buffer.byteLength(line);
  }
  return { sha256: hash.digest("hex"), bytes };
}

function tooMany(count: number, maxRows: number): void {
  if (count > maxRows) throw importInvalid(`more than ${maxRows} rows`);
}

function readSqlite(file: string, from: string, maxRows: number): ImportTable {
  let db: SQLite.Database;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`cannot open the SQLite file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    db.pragma("query_only = ON");
    let statement: SQLite.Statement;
    try {
      statement = db.prepare(`SELECT * FROM ${from} LIMIT ${maxRows + 1}`);
    } catch (err) {
      throw new CliError(`cannot read the table: ${err instanceof Error ? err.message : String(err)}`);
    }
    const columns = statement.columns().map((c) => c.name);
    const rows: ImportTable["rows"] = [];
    for (const raw of statement.raw(true).iterate() as Iterable<unknown[]>) {
      tooMany(rows.length + 1, maxRows);
      rows.push(new Map(columns.map((name, i) => [name, importValue(raw[i])])));
    }
    return { columns, rows };
  } finally {
    db.close();
  }
}

async function readPostgres(url: string, from: string, maxRows: number): Promise<ImportTable> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new CliError(`cannot connect to the PostgreSQL source: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await client.query("BEGIN TRANSACTION READ ONLY");
    let result: pg.QueryResult<Record<string, unknown>>;
    try {
      result = await client.query<Record<string, unknown>>({ text: `SELECT * FROM ${from} LIMIT ${maxRows + 1}`, rowMode: "array" } as pg.QueryConfig);
    } catch (err) {
      throw new CliError(`cannot read the table: ${err instanceof Error ? err.message : String(err)}`);
    }
    const columns = result.fields.map((f) => f.name);
    tooMany(result.rows.length, maxRows);
    const rows = (result.rows as unknown as unknown[][]).map((raw) => new Map(columns.map((name, i) => [name, importValue(raw[i])])));
    return { columns, rows };
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** True when the source argument is a database URL rather than a file. */
export function isDatabaseSource(source: string): boolean {
  return source.startsWith("sqlite:") || isPostgresUrl(source);
}

/**
 * Reads a whole table of another app's database, read-only: SQLite
 * (`sqlite:/path/app.db`, opened read-only) or PostgreSQL (`postgres://…`,
 * in a READ ONLY transaction). At most `maxRows` rows (`import_invalid`
 * beyond). The table name is checked and quoted; nothing else is
 * interpolated.
 */
export async function readSourceTable(source: string, tableName: string, maxRows = MAX_IMPORT_ROWS): Promise<SourceTable> {
  const from = quotedTableName(tableName);
  const postgres = isPostgresUrl(source);
  const table = postgres ? await readPostgres(source, from, maxRows) : readSqlite(source.replace(/^sqlite:(\/\/)?/, ""), from, maxRows);
  return { table, kind: postgres ? "postgres" : "sqlite", ...fingerprint(table) };
}
