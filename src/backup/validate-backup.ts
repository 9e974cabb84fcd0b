import { GatehouseError, type ErrorCode } from "../core/errors.js";
import { normalizeEmail } from "../core/users/email.js";
import { isStoredSettingKey, settingsProblems } from "../core/settings/settings-validation.js";
import { normalizeUsername } from "../core/users/username.js";
import {
  BACKUP_FORMAT, BACKUP_TABLES, BACKUP_VERSION, LATEST_SCHEMA, type BackupRow, type BackupTable,
} from "./backup-format.js";
import { isJsonObject } from "./column-checks.js";
import { parseSafeJson } from "./safe-json.js";
import { TABLE_SPECS } from "./table-specs.js";

/** Problems reported at most (the first ones are enough to fix a file). */
const MAX_PROBLEMS = 20;
const TOP_LEVEL_KEYS = ["format", "version", "createdAt", "schema", "tables", "sha256"];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** The validated content of a document. */
export interface BackupContent {
  createdAt: string;
  schema: string;
  tables: Record<BackupTable, BackupRow[]>;
}

/** A location in the document, safe to show: printable ASCII, at most 64 characters. */
function where(path: string): string {
  return path.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
}

/** Collects problems; throws them all at once as one `invalid_backup` (or another code). */
function collector() {
  const fields: string[] = [];
  const problems: string[] = [];
  return {
    add: (path: string, problem: string) => {
      if (fields.length < MAX_PROBLEMS) {
        fields.push(where(path));
        problems.push(`${where(path)}: ${problem}`);
      }
    },
    get count() {
      return fields.length;
    },
    throwIfAny(code: ErrorCode = "invalid_backup") {
      if (fields.length > 0) throw new GatehouseError(code, { fields, cause: new Error(problems.join("; ")) });
    },
  };
}

/** Checks one row field by field: every column present, none unknown, each value well-typed. */
export function checkRow(table: BackupTable, row: unknown, path: string, add: (path: string, problem: string) => void): void {
  if (!isJsonObject(row)) return add(path, "must be an object");
  const spec = TABLE_SPECS[table];
  const known = new Set(spec.map(([c]) => c));
  for (const key of Object.keys(row as object)) if (!known.has(key)) add(`${path}.${key}`, "is not a column of this table");
  for (const [column, check] of spec) {
    if (!Object.prototype.hasOwnProperty.call(row, column)) {
      add(`${path}.${column}`, "is missing");
      continue;
    }
    const problem = check((row as Record<string, unknown>)[column]);
    if (problem) add(`${path}.${column}`, problem);
  }
}

function checkUnique(rows: BackupRow[], table: string, column: string, add: (p: string, m: string) => void): Set<unknown> {
  const seen = new Set<unknown>();
  rows.forEach((row, i) => {
    const value = row[column];
    if (value === null) return;
    if (seen.has(value)) add(`${table}[${i}].${column}`, "is a duplicate");
    seen.add(value);
  });
  return seen;
}

/**
 * The settings rows hold exactly what `PATCH /api/admin/settings` accepts
 * (the same validator): a known key, a value of its type within its bounds,
 * session lifetimes consistent with each other. A problem names the key
 * (`settings.<key>`), which the row check already limited to a safe charset.
 */
function checkSettings(rows: BackupRow[], add: (p: string, m: string) => void): void {
  const values: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    const key = row.key as string;
    if (!isStoredSettingKey(key)) return add(`settings.${key}`, `(settings[${i}]) is not a setting of this version`);
    values[key] = parseSafeJson(row.value as string);
  });
  for (const key of settingsProblems(values)) add(`settings.${key}`, "is not a value PATCH /api/admin/settings accepts");
}

/** Consistency across rows: unique keys, normalized forms, tokens owned by a user in the backup. */
function checkRelations(tables: Record<BackupTable, BackupRow[]>, add: (p: string, m: string) => void): void {
  const userIds = checkUnique(tables.users, "users", "id", add);
  checkUnique(tables.users, "users", "username_normalized", add);
  checkUnique(tables.users, "users", "email_normalized", add);
  tables.users.forEach((u, i) => {
    if (u.username_normalized !== normalizeUsername(u.username as string)) add(`users[${i}].username_normalized`, "does not match username");
    const email = u.email === null ? null : normalizeEmail(u.email as string);
    if (u.email_normalized !== email) add(`users[${i}].email_normalized`, "does not match email");
  });
  checkUnique(tables.settings, "settings", "key", add);
  checkSettings(tables.settings, add);
  checkUnique(tables.api_tokens, "api_tokens", "id", add);
  checkUnique(tables.api_tokens, "api_tokens", "token_hash", add);
  tables.api_tokens.forEach((t, i) => {
    if (!userIds.has(t.user_id)) add(`api_tokens[${i}].user_id`, "names no user in the backup");
  });
  checkUnique(tables.user_secrets, "user_secrets", "id", add);
  const kinds = new Set<string>();
  tables.user_secrets.forEach((s, i) => {
    if (!userIds.has(s.user_id)) add(`user_secrets[${i}].user_id`, "names no user in the backup");
    const pair = `${String(s.user_id)}/${String(s.kind)}`;
    if (kinds.has(pair)) add(`user_secrets[${i}]`, "repeats a (user_id, kind) pair");
    kinds.add(pair);
  });
  checkUnique(tables.vault_secrets, "vault_secrets", "name", add);
  checkUnique(tables.user_vault_secrets, "user_vault_secrets", "id", add);
  const keyNames = new Set<string>();
  tables.user_vault_secrets.forEach((s, i) => {
    if (!userIds.has(s.user_id)) add(`user_vault_secrets[${i}].user_id`, "names no user in the backup");
    const pair = `${String(s.user_id)}/${String(s.name)}`;
    if (keyNames.has(pair)) add(`user_vault_secrets[${i}]`, "repeats a (user_id, name) pair");
    keyNames.add(pair);
  });
  checkUnique(tables.totp_factors, "totp_factors", "user_id", add);
  tables.totp_factors.forEach((f, i) => {
    if (!userIds.has(f.user_id)) add(`totp_factors[${i}].user_id`, "names no user in the backup");
  });
  checkUnique(tables.recovery_codes, "recovery_codes", "id", add);
  const lookups = new Set<string>();
  tables.recovery_codes.forEach((r, i) => {
    if (!userIds.has(r.user_id)) add(`recovery_codes[${i}].user_id`, "names no user in the backup");
    const pair = `${String(r.user_id)}/${String(r.lookup)}`;
    if (lookups.has(pair)) add(`recovery_codes[${i}]`, "repeats a (user_id, lookup) pair");
    lookups.add(pair);
  });
  checkUnique(tables.webauthn_credentials, "webauthn_credentials", "id", add);
  checkUnique(tables.webauthn_credentials, "webauthn_credentials", "credential_id", add);
  tables.webauthn_credentials.forEach((p, i) => {
    if (!userIds.has(p.user_id)) add(`webauthn_credentials[${i}].user_id`, "names no user in the backup");
  });
  checkUnique(tables.external_identities, "external_identities", "id", add);
  const subjects = new Set<string>();
  const linked = new Set<string>();
  tables.external_identities.forEach((x, i) => {
    if (!userIds.has(x.user_id)) add(`external_identities[${i}].user_id`, "names no user in the backup");
    const key = JSON.stringify([x.issuer, x.subject]);
    if (subjects.has(key)) add(`external_identities[${i}]`, "repeats an (issuer, subject) pair");
    subjects.add(key);
    const pair = `${String(x.user_id)}/${String(x.provider)}`;
    if (linked.has(pair)) add(`external_identities[${i}]`, "repeats a (user_id, provider) pair");
    linked.add(pair);
  });
  checkUnique(tables.audit_events, "audit_events", "id", add);
}

/**
 * Validates a parsed document completely — format, version, schema, sizes,
 * every row field by field, relations between rows — without touching any
 * database. Throws `invalid_backup` (or `payload_too_large` for too many
 * rows) listing where the problems are, never the offending values.
 */
export function validateBackup(doc: unknown, maxRows: Record<BackupTable, number>): BackupContent {
  const c = collector();
  if (!isJsonObject(doc)) {
    c.add("document", "must be a JSON object");
    c.throwIfAny();
  }
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) if (!TOP_LEVEL_KEYS.includes(key)) c.add(key, "is not part of the format");
  if (d.format !== BACKUP_FORMAT) c.add("format", `must be "${BACKUP_FORMAT}"`);
  if (d.version !== BACKUP_VERSION) c.add("version", `must be ${BACKUP_VERSION}`);
  if (typeof d.createdAt !== "string" || !ISO_UTC.test(d.createdAt) || Number.isNaN(Date.parse(d.createdAt))) {
    c.add("createdAt", "must be an ISO-8601 UTC time");
  }
  if (d.schema !== LATEST_SCHEMA) c.add("schema", `must be ${LATEST_SCHEMA} (the backup comes from another Gatehouse version)`);
  const tables = d.tables;
  if (!isJsonObject(tables)) c.add("tables", "must be an object");
  c.throwIfAny();

  const t = tables as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!(BACKUP_TABLES as readonly string[]).includes(key)) c.add(`tables.${key}`, "is not a backed-up table");
  for (const table of BACKUP_TABLES) if (!Array.isArray(t[table])) c.add(`tables.${table}`, "must be an array");
  c.throwIfAny();
  for (const table of BACKUP_TABLES) {
    if ((t[table] as unknown[]).length > maxRows[table]) c.add(`tables.${table}`, `has more than ${maxRows[table]} rows`);
  }
  c.throwIfAny("payload_too_large");

  for (const table of BACKUP_TABLES) {
    const rows = t[table] as unknown[];
    for (let i = 0; i < rows.length && c.count < MAX_PROBLEMS; i++) checkRow(table, rows[i], `${table}[${i}]`, c.add);
  }
  c.throwIfAny();
  const checked = t as Record<BackupTable, BackupRow[]>;
  checkRelations(checked, c.add);
  c.throwIfAny();
  return { createdAt: d.createdAt as string, schema: d.schema as string, tables: checked };
}
