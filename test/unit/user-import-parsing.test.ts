import { describe, expect, it } from "vitest";
import { isGatehouseError } from "../../src/core/errors.js";
import { parseImportMapping } from "../../src/core/user-import/import-mapping.js";
import { parseCsv } from "../../src/core/user-import/parse-csv.js";
import { readImportFile } from "../../src/core/user-import/read-import-file.js";

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isGatehouseError(err, "import_invalid")) return err.fields?.[0] ?? "";
    throw err;
  }
  throw new Error("no error");
}

describe("parseCsv (RFC 4180)", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks; CRLF or LF; a missing final line break; blank lines skipped", () => {
    expect(parseCsv('a,b,c\r\n"x, y","say ""hi""","line1\nline2"\n\n1,,3', 10)).toEqual([
      ["a", "b", "c"],
      ["x, y", 'say "hi"', "line1\nline2"],
      ["1", "", "3"],
    ]);
    expect(parseCsv('""\n,\n', 10)).toEqual([[""], ["", ""]]);
    expect(parseCsv("", 10)).toEqual([]);
  });

  it("refuses broken quoting with the line number, and too many records", () => {
    expect(reason(() => parseCsv('a\n"open\nstill open', 10))).toBe("line 2: unterminated quoted field");
    expect(reason(() => parseCsv('a\nab"c', 10))).toBe("line 2: a quote inside an unquoted field");
    expect(reason(() => parseCsv('a\n"x"y', 10))).toBe("line 2: text after a closing quote");
    expect(reason(() => parseCsv("a\rb", 10))).toBe("line 1: a carriage return outside quotes");
    expect(reason(() => parseCsv("a\nb\nc\n", 2))).toBe("more than 2 records");
  });

  it("is linear: a 1 MB field of doubled quotes parses", () => {
    const big = `"${'""'.repeat(500_000)}"`;
    expect(parseCsv(big, 1)[0]![0]!.length).toBe(500_000);
  });
});

describe("readImportFile", () => {
  it("drops a UTF-8 BOM, refuses other encodings, repeated or empty header names and short rows", () => {
    const table = readImportFile(Buffer.from("\uFEFFlogin,mail\nann,ann@example.test\n"), "csv");
    expect(table.columns).toEqual(["login", "mail"]);
    expect(table.rows[0]?.get("login")).toBe("ann");
    expect(reason(() => readImportFile(Buffer.from([0x6c, 0x0a, 0xff, 0x0a]), "csv"))).toBe("the file is not valid UTF-8");
    expect(reason(() => readImportFile(Buffer.from("a,a\n1,2\n"), "csv"))).toBe("header column 2 repeats a column name");
    expect(reason(() => readImportFile(Buffer.from("a,\n1,2\n"), "csv"))).toBe("header column 2 has no name");
    expect(reason(() => readImportFile(Buffer.from("a,b\n1\n"), "csv"))).toBe("row 1: 1 fields, the header has 2");
    expect(reason(() => readImportFile(Buffer.from(""), "csv"))).toContain("the file is empty");
  });

  it("JSON lines: objects only; nested values become a marker (reported per row), a __proto__ key is only data", () => {
    const table = readImportFile(Buffer.from('{"u":"ann","x":{"y":1}}\r\n\n{"__proto__":{"admin":true},"u":"bob"}\n'), "jsonl");
    expect(table.rows).toHaveLength(2);
    expect(table.rows[0]?.get("x")).toEqual({ other: true });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(table.columns).toEqual(["u", "x", "__proto__"]);
    expect(reason(() => readImportFile(Buffer.from("[1]\n"), "jsonl"))).toBe("line 1: not a JSON object");
    expect(reason(() => readImportFile(Buffer.from('{"u":1}\n{u}\n'), "jsonl"))).toBe("line 2: not valid JSON");
    expect(reason(() => readImportFile(Buffer.from('{"u":1}\n{"u":2}\n'), "jsonl", 1))).toBe("more than 1 rows");
  });
});

describe("parseImportMapping", () => {
  it("maps fields to columns, negates the flags, defaults the role to user when no role column is mapped", () => {
    const m = parseImportMapping({ map: "username=login, email=mail,blocked=!is_active", roles: "" });
    expect(m.columns).toEqual({ username: { column: "login", negate: false }, email: { column: "mail", negate: false }, blocked: { column: "is_active", negate: true } });
    expect(m.defaultRole).toBe("user");
    expect(parseImportMapping({ map: "username=u,role=r" }).defaultRole).toBeNull();
    expect(parseImportMapping({ map: "username=u,role=r", roles: "1=admin", defaultRole: "user" }).roles.get("1")).toBe("admin");
  });

  it("refuses unknown or repeated fields, a missing username, superadmin anywhere, a negated text field", () => {
    expect(reason(() => parseImportMapping({ map: "email=mail" }))).toBe("map: username is required");
    expect(reason(() => parseImportMapping({ map: "username=a,superadmin=b" }))).toContain("map: unknown field");
    expect(reason(() => parseImportMapping({ map: "username=a,username=b" }))).toBe("map: username is mapped twice");
    expect(reason(() => parseImportMapping({ map: "username=!a" }))).toContain("only blocked and email_verified");
    expect(reason(() => parseImportMapping({ map: "username=a", roles: "boss=superadmin" }))).toBe("roles: an import never assigns superadmin");
    expect(reason(() => parseImportMapping({ map: "username=a", defaultRole: "superadmin" }))).toBe("default role: an import never assigns superadmin");
    expect(reason(() => parseImportMapping({ map: "username" }))).toBe("map: entry 1 is not name=value");
  });
});
