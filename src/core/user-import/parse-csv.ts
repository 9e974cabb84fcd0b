import { importInvalid } from "./import-invalid.js";

/**
 * Parses RFC 4180 CSV text into records of fields. Fields are separated by
 * `,`, records by CRLF or LF; a field may be quoted with `"` (inside it, `""`
 * is one quote and line breaks are kept). A trailing line break ends the last
 * record; blank lines are skipped. Throws `import_invalid` (with the line
 * number) on a quote inside an unquoted field, text after a closing quote, an
 * unterminated quoted field, or more than `maxRecords` records (`tooMany`
 * is the reason given then). Linear time,
 * no regular expressions.
 */
export function parseCsv(text: string, maxRecords: number, tooMany = `more than ${maxRecords} records`): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let line = 1;
  let i = 0;
  let fieldStarted = false; // the current record has at least one character or separator
  const n = text.length;
  const endRecord = () => {
    record.push(field);
    field = "";
    if (!(record.length === 1 && record[0] === "" && !fieldStarted)) {
      if (records.length >= maxRecords) throw importInvalid(tooMany);
      records.push(record);
    }
    record = [];
    fieldStarted = false;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      if (field !== "") throw importInvalid(`line ${line}: a quote inside an unquoted field`);
      const openedAt = line;
      i++;
      let closed = false;
      while (i < n) {
        const q = text.indexOf('"', i);
        const end = q === -1 ? n : q;
        const chunk = text.slice(i, end);
        field += chunk;
        for (let k = chunk.indexOf("\n"); k !== -1; k = chunk.indexOf("\n", k + 1)) line++;
        i = end;
        if (q === -1) break;
        if (q + 1 < n && text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = q + 2;
          continue;
        }
        closed = true;
        i = q + 1;
        break;
      }
      if (!closed) throw importInvalid(`line ${openedAt}: unterminated quoted field`);
      fieldStarted = true;
      // After the closing quote: a separator, a line break or the end.
      if (i < n) {
        const after = text.charCodeAt(i);
        const crlf = after === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10;
        if (after !== 44 && after !== 10 && !crlf) throw importInvalid(`line ${line}: text after a closing quote`);
      }
      continue;
    }
    if (c === 44 /* , */) {
      record.push(field);
      field = "";
      fieldStarted = true;
      i++;
      continue;
    }
    if (c === 10 || (c === 13 && i + 1 < n && text.charCodeAt(i + 1) === 10)) {
      endRecord();
      i += c === 13 ? 2 : 1;
      line++;
      continue;
    }
    if (c === 13) throw importInvalid(`line ${line}: a carriage return outside quotes`);
    // A run of plain characters, taken in one slice.
    let end = i + 1;
    while (end < n) {
      const d = text.charCodeAt(end);
      if (d === 44 || d === 10 || d === 13 || d === 34) break;
      end++;
    }
    if (end < n && text.charCodeAt(end) === 34) throw importInvalid(`line ${line}: a quote inside an unquoted field`);
    field += text.slice(i, end);
    fieldStarted = true;
    i = end;
  }
  if (field !== "" || record.length > 0 || fieldStarted) endRecord();
  return records;
}
