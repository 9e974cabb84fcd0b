import { describe, expect, it } from "vitest";
import { AUDIT_CSV_HEADER, auditCsvRecord, csvField, neutralizeCell } from "../../src/core/audit/audit-csv.js";

/** A minimal RFC 4180 reader, to check what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  return rows;
}

describe("CSV injection: exported cells never start a spreadsheet formula (INP-07)", () => {
  it.each(["=HYPERLINK(\"http://evil.test\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "\u0000x"])("prefixes %j with a quote", (value) => {
    expect(neutralizeCell(value)).toBe(`'${value}`);
    const [[cell]] = parseCsv(`${csvField(value)}\r\n`) as [[string]];
    expect(cell.startsWith("'")).toBe(true);
  });

  it("leaves ordinary values alone", () => {
    for (const value of ["alice", "192.0.2.1", "2026-11-22T10:00:00.000Z", "", "a=b", "x-y"]) expect(neutralizeCell(value)).toBe(value);
  });

  it("quotes commas, quotes and line breaks, so a forged row stays inside its cell", () => {
    const ua = 'Mozilla",=cmd|\' /C calc\'!A0\r\nforged,row';
    const line = auditCsvRecord({
      id: "e1",
      type: "login_failure",
      at: Date.UTC(2026, 10, 22, 10),
      userId: null,
      actorId: null,
      ip: "203.0.113.9",
      userAgent: ua,
      requestId: "r1",
      details: { reason: "=1+1" },
    });
    const rows = parseCsv(AUDIT_CSV_HEADER + line);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(["id", "at", "type", "user_id", "actor_id", "ip", "user_agent", "request_id", "details"]);
    expect(rows[1]).toEqual(["e1", "2026-11-22T10:00:00.000Z", "login_failure", "", "", "203.0.113.9", ua, "r1", '{"reason":"=1+1"}']);
  });

  it("neutralizes a user agent that is a formula", () => {
    const line = auditCsvRecord({ id: "e2", type: "login_success", at: 0, userId: "u", actorId: null, ip: "::1", userAgent: "=cmd|' /C calc'!A0", requestId: null, details: {} });
    expect(parseCsv(line)[0]?.[6]).toBe("'=cmd|' /C calc'!A0");
  });
});
