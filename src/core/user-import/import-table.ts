/** Stands for a value that is not plain (a nested JSON object or array, a binary column that is not UTF-8). */
export const OTHER_VALUE: { readonly other: true } = Object.freeze({ other: true });

/** A value read from a source: CSV gives strings, JSON lines and databases also numbers, booleans and null. */
export type ImportValue = string | number | boolean | null | typeof OTHER_VALUE;

/** Rows read from a file or a table, before any mapping. */
export interface ImportTable {
  /** The source's column names (the CSV header; every key of the JSON lines; the table's columns). */
  columns: string[];
  /** One map per data row, in source order (row 1 is the first data row). */
  rows: Array<Map<string, ImportValue>>;
}

/** Largest number of data rows one import accepts (documented in docs/migrating-users.md). */
export const MAX_IMPORT_ROWS = 100_000;

/** The accepted formats: CSV with a header row, JSON lines (one object per line), a database table. */
export const IMPORT_FORMATS = ["csv", "jsonl", "table"] as const;

/** One of {@link IMPORT_FORMATS}. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
