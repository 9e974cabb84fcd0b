import { identifyPasswordHash, type HashScheme } from "../passwords/legacy/identify-hash.js";
import { cleanEmail, emailProblem, normalizeEmail } from "../users/email.js";
import { cleanUsername, normalizeUsername, usernameProblem } from "../users/username.js";
import { importInvalid } from "./import-invalid.js";
import type { ColumnRef, ImportField, ImportMapping, ImportableRole } from "./import-mapping.js";
import type { ImportTable, ImportValue } from "./import-table.js";

/** Why a row is skipped. Row numbers, field names and these codes only: never a value from the row. */
export type ImportProblemCode =
  | "missing_username"
  | "invalid_username"
  | "invalid_email"
  | "duplicate_in_file"
  | "username_taken"
  | "email_taken"
  | "unsupported_hash"
  | "malformed"
  | "parameters_out_of_range"
  | "unmapped_role"
  | "forbidden_role"
  | "invalid_boolean"
  | "invalid_value";

/** One problem of one row (row 1 is the first data row). */
export interface ImportProblem {
  row: number;
  field: ImportField;
  problem: ImportProblemCode;
}

/** A row that can be imported, as it will be stored. */
export interface ImportedUser {
  row: number;
  username: string;
  usernameNormalized: string;
  email: string | null;
  emailNormalized: string | null;
  /** The source's hash, stored as is; null: the account has no password until a reset. */
  passwordHash: string | null;
  scheme: HashScheme | null;
  role: ImportableRole;
  blocked: boolean;
  emailVerified: boolean;
}

/** The usernames and addresses (normalized) that already exist in Gatehouse, among those of the file. */
export interface TakenLogins {
  usernames: ReadonlySet<string>;
  emails: ReadonlySet<string>;
}

/** What an import finds in a file, and would import. */
export interface ImportPlan {
  rows: number;
  users: ImportedUser[];
  /** Every problem; a row with at least one is skipped. */
  problems: ImportProblem[];
}

/** Longest hash the users table stores (its column is 512 characters wide; every accepted scheme is shorter). */
const MAX_STORED_HASH = 512;

const TRUE = new Set(["true", "1", "yes", "y", "t", "on"]);
const FALSE = new Set(["false", "0", "no", "n", "f", "off", ""]);

function flag(value: ImportValue | undefined, ref: ColumnRef): boolean | "invalid" {
  let result: boolean;
  if (value === null || value === undefined) result = false;
  else if (typeof value === "boolean") result = value;
  else if (typeof value === "number") {
    if (value !== 0 && value !== 1) return "invalid";
    result = value === 1;
  } else if (typeof value === "string") {
    const text = value.trim().toLowerCase();
    if (TRUE.has(text)) result = true;
    else if (FALSE.has(text)) result = false;
    else return "invalid";
  } else return "invalid";
  return ref.negate ? !result : result;
}

/** A value of the wrong kind (a boolean or a nested value where text is expected). */
const INVALID: unique symbol = Symbol("invalid");

/** A text value: strings as they are, numbers as digits (a numeric login), null/empty → null. */
function text(value: ImportValue | undefined): string | null | typeof INVALID {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : INVALID;
  return INVALID;
}

/** The source role value as text (`1`, `true`, `staff`). */
function roleKey(value: ImportValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

/** Checks that every mapped column exists in the source; throws `import_invalid` naming the field (not the data). */
export function checkMappedColumns(table: ImportTable, mapping: ImportMapping): void {
  const present = new Set(table.columns);
  for (const [field, ref] of Object.entries(mapping.columns)) {
    if (ref !== undefined && !present.has(ref.column)) throw importInvalid(`the column mapped to ${field} is not in the source`);
  }
}

/** The normalized usernames and addresses of a table, to look up which are taken. */
export function loginsOf(table: ImportTable, mapping: ImportMapping): { usernames: string[]; emails: string[] } {
  const usernames = new Set<string>();
  const emails = new Set<string>();
  for (const row of table.rows) {
    const u = text(row.get(mapping.columns.username!.column));
    if (typeof u === "string") usernames.add(normalizeUsername(u));
    if (mapping.columns.email) {
      const e = text(row.get(mapping.columns.email.column));
      if (typeof e === "string") emails.add(normalizeEmail(e));
    }
  }
  return { usernames: [...usernames], emails: [...emails] };
}

/**
 * Decides, row by row, what an import does: validates each mapped field by
 * Gatehouse's own rules (username, email), recognises the password hash
 * (`identifyPasswordHash`), maps the role (never to superadmin) and the
 * flags, and finds duplicates within the file (the first row keeps the name)
 * and against Gatehouse (`taken`). Fields that are not mapped are never read.
 * The password policy is not applied: it applies at the next change.
 */
export function planUserImport(table: ImportTable, mapping: ImportMapping, taken: TakenLogins): ImportPlan {
  const problems: ImportProblem[] = [];
  const users: ImportedUser[] = [];
  const seenUsernames = new Set<string>();
  const seenEmails = new Set<string>();
  const { columns: map } = mapping;
  table.rows.forEach((source, index) => {
    const row = index + 1;
    const before = problems.length;
    const problem = (field: ImportField, code: ImportProblemCode) => problems.push({ row, field, problem: code });
    const get = (ref: ColumnRef | undefined) => (ref === undefined ? undefined : source.get(ref.column));

    let username: string | null = null;
    const rawName = text(get(map.username));
    if (rawName === INVALID) problem("username", "invalid_value");
    else if (rawName === null) problem("username", "missing_username");
    else if (usernameProblem(rawName) !== null) problem("username", "invalid_username");
    else {
      username = cleanUsername(rawName);
      const normalized = normalizeUsername(username);
      if (seenUsernames.has(normalized)) problem("username", "duplicate_in_file");
      else if (taken.usernames.has(normalized)) problem("username", "username_taken");
      seenUsernames.add(normalized);
    }

    let email: string | null = null;
    const rawEmail = text(get(map.email));
    if (rawEmail === INVALID) problem("email", "invalid_value");
    else if (rawEmail !== null) {
      if (emailProblem(rawEmail) !== null) problem("email", "invalid_email");
      else {
        email = cleanEmail(rawEmail);
        const normalized = normalizeEmail(email);
        if (seenEmails.has(normalized)) problem("email", "duplicate_in_file");
        else if (taken.emails.has(normalized)) problem("email", "email_taken");
        seenEmails.add(normalized);
      }
    }

    let passwordHash: string | null = null;
    let scheme: HashScheme | null = null;
    const rawHash = text(get(map.password_hash));
    if (rawHash === INVALID) problem("password_hash", "invalid_value");
    else if (rawHash !== null && rawHash.length > MAX_STORED_HASH) problem("password_hash", "malformed");
    else if (rawHash !== null) {
      const identity = identifyPasswordHash(rawHash);
      if (identity.ok) {
        passwordHash = rawHash;
        scheme = identity.scheme;
      } else problem("password_hash", identity.problem === "unknown_format" ? "unsupported_hash" : identity.problem);
    }

    let role: ImportableRole | null = null;
    if (map.role === undefined) role = mapping.defaultRole;
    else {
      const key = roleKey(get(map.role));
      const mapped = key === null ? undefined : mapping.roles.get(key);
      if (mapped !== undefined) role = mapped;
      else if (key !== null && key.toLowerCase() === "superadmin") problem("role", "forbidden_role");
      else if (mapping.defaultRole !== null) role = mapping.defaultRole;
      else problem("role", "unmapped_role");
    }

    const flags = { blocked: false, emailVerified: false };
    for (const [field, key] of [["blocked", "blocked"], ["email_verified", "emailVerified"]] as const) {
      const ref = map[field];
      if (ref === undefined) continue;
      const value = flag(get(ref), ref);
      if (value === "invalid") problem(field, "invalid_boolean");
      else flags[key] = value;
    }

    if (problems.length > before || username === null || role === null) return;
    users.push({
      row,
      username,
      usernameNormalized: normalizeUsername(username),
      email,
      emailNormalized: email === null ? null : normalizeEmail(email),
      passwordHash,
      scheme,
      role,
      blocked: flags.blocked,
      emailVerified: email !== null && flags.emailVerified,
    });
  });
  return { rows: table.rows.length, users, problems };
}
