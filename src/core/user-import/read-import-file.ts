import { importInvalid } from "./import-invalid.js";
import { MAX_IMPORT_ROWS, OTHER_VALUE, type ImportTable, type ImportValue } from "./import-table.js";
import { parseCsv } from "./parse-csv.js";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function decode(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes); // a leading BOM is dropped
  } catch {
    throw importInvalid("the file is not valid UTF-8");
  }
}

function fromCsv(text: string, maxRows: number): ImportTable {
  const records = parseCsv(text, maxRows + 1, `more than ${maxRows} rows`); // the header, then the rows
  const header = records[0];
  if (header === undefined) throw importInvalid("the file is empty: a CSV file needs a header row");
  const columns = header.map((name) => name.trim());
  const seen = new Set<string>();
  for (const [i, name] of columns.entries()) {
    if (name === "") throw importInvalid(`header column ${i + 1} has no name`);
    if (seen.has(name)) throw importInvalid(`header column ${i + 1} repeats a column name`);
    seen.add(name);
  }
  if (records.length - 1 > maxRows) throw importInvalid(`more than ${maxRows} rows`);
  const rows = records.slice(1).map((record, index) => {
    if (record.length !== columns.length) throw importInvalid(`row ${index + 1}: ${record.length} fields, the header has ${columns.length}`);
    return new Map<string, ImportValue>(columns.map((name, i) => [name, record[i] ?? null]));
  });
  return { columns, rows };
}

function fromJsonLines(text: string, maxRows: number): ImportTable {
  const columns = new Set<string>();
  const rows: Array<Map<string, ImportValue>> = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw importInvalid(`line ${index + 1}: not valid JSON`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw importInvalid(`line ${index + 1}: not a JSON object`);
    if (rows.length >= maxRows) throw importInvalid(`more than ${maxRows} rows`);
    const row = new Map<string, ImportValue>();
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      columns.add(key);
      // Nested values are kept out: a mapped field holding one is reported for its row (invalid_value).
      row.set(key, v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : OTHER_VALUE);
    }
    rows.push(row);
  }
  return { columns: [...columns], rows };
}

/**
 * Reads an uploaded file: strict UTF-8, then CSV (RFC 4180 with a header row)
 * or JSON lines (one object per line; blank lines skipped). Throws
 * `import_invalid` when the file cannot be read as a whole, so nothing is
 * imported from a damaged file. At most `maxRows` data rows.
 */
export function readImportFile(bytes: Uint8Array, format: "csv" | "jsonl", maxRows = MAX_IMPORT_ROWS): ImportTable {
  const text = decode(bytes);
  return format === "csv" ? fromCsv(text, maxRows) : fromJsonLines(text, maxRows);
}
