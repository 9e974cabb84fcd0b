import type { AuditEvent } from "./audit-event.js";

/** Leading characters a spreadsheet may read as the start of a formula (INP-07, OWASP CSV injection). */
const FORMULA_STARTS = new Set(["=", "+", "-", "@", "\t", "\r", "\n", "\u0000"]);

/**
 * Neutralizes a cell a spreadsheet would run as a formula: a value starting
 * with `=`, `+`, `-`, `@`, TAB, CR, LF or NUL gets a leading `'`.
 */
export function neutralizeCell(value: string): string {
  return value.length > 0 && FORMULA_STARTS.has(value[0] ?? "") ? `'${value}` : value;
}

/** One RFC 4180 field: neutralized, then quoted (quotes doubled) when it holds a quote, comma, CR or LF. */
export function csvField(value: string | number | boolean | null): string {
  const text = neutralizeCell(value === null ? "" : String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One RFC 4180 record, CRLF-terminated. */
export function csvRecord(values: readonly (string | number | boolean | null)[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/** The header record of the audit CSV export. */
export const AUDIT_CSV_HEADER = csvRecord(["id", "at", "type", "user_id", "actor_id", "ip", "user_agent", "request_id", "details"]);

/** An audit event as one CSV record (time in ISO-8601 UTC, details as JSON). */
export function auditCsvRecord(event: AuditEvent): string {
  return csvRecord([
    event.id,
    new Date(event.at).toISOString(),
    event.type,
    event.userId,
    event.actorId,
    event.ip,
    event.userAgent,
    event.requestId,
    JSON.stringify(event.details),
  ]);
}
