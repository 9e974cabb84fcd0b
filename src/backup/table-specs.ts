import { AUDIT_EVENT_TYPES } from "../core/audit/audit-event.js";
import { ROLES } from "../core/users/user.js";
import type { BackupTable } from "./backup-format.js";
import {
  argon2idPhc, both, storedPasswordHash, epochMs, flag, isJsonObject, jsonText, nullable, oneOf, sha256Hex, text, visibleText, type ColumnCheck,
} from "./column-checks.js";
import { parseSafeJson } from "./safe-json.js";
import { parseEnvelope } from "../core/secrets/secret-envelope.js";
import { SECRET_NAME } from "../core/vault/vault-names.js";

/**
 * The migration these specs describe. When a new migration changes a backed-up
 * table, update the specs below and this name together (a test checks every
 * live column is covered); export and import refuse to run while they differ.
 */
export const SPEC_SCHEMA = "0014_vault";

/** Columns of one table, in database.ts order: the order rows are written in. */
export type TableSpec = ReadonlyArray<readonly [column: string, check: ColumnCheck]>;

const id = text(1, 36);
const SCOPE = /^[a-z][a-z0-9:_.-]{0,63}$/;

/** `scopes`: a JSON array of scope names, or scope names separated by spaces or commas. */
const scopes: ColumnCheck = (v) => {
  const problem = text(0, 2048)(v);
  if (problem) return problem;
  const s = v as string;
  let list: unknown;
  try {
    list = s.trimStart().startsWith("[") ? parseSafeJson(s) : s.split(/[ ,]+/).filter((x) => x !== "");
  } catch {
    return "must be a JSON array or a list of scope names";
  }
  return Array.isArray(list) && list.every((x) => typeof x === "string" && SCOPE.test(x)) ? null : "must list scope names";
};

/** A TOTP time step (30-second steps since 1970): a non-negative integer. */
const stepCount: ColumnCheck = (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? null : "must be a non-negative integer");

const anyJson = (): boolean => true;

/** An encrypted secret (`v1.<key id>.<nonce>.<ciphertext>`): a backup carries ciphertext only, never a plaintext secret. */
const secretEnvelope: ColumnCheck = (v) => {
  const problem = text(1, 65_536)(v);
  if (problem) return problem;
  return typeof parseEnvelope(v as string) === "string" ? "must be an encrypted envelope (v1.<key id>.<nonce>.<ciphertext>)" : null;
};

/** base64url text (credential ids, COSE public keys). */
function base64url(min: number, max: number): ColumnCheck {
  return both(text(min, max), (v) => (/^[A-Za-z0-9_-]+$/.test(v as string) ? null : "must be base64url"));
}

/** A sign counter: a non-negative 32-bit integer. */
const signCounter: ColumnCheck = (v) => (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? null : "must be a sign counter (0 to 2^32-1)");

/** A configured provider's id, as in its callback path (`[a-z0-9-]{1,32}`). */
const providerId: ColumnCheck = (v) => (typeof v === "string" && /^[a-z0-9-]{1,32}$/.test(v) ? null : "must be a provider id");

/** A vault secret's name (src/core/vault/vault-names.ts). */
const secretName: ColumnCheck = (v) => (typeof v === "string" && SECRET_NAME.test(v) ? null : "must be a secret name");

/** The shown prefix of a vault secret: at most 4 visible ASCII characters (never more of the value). */
const shownPrefix: ColumnCheck = (v) => (typeof v === "string" && /^[\x21-\x7e][\x20-\x7e]{0,3}$/.test(v) ? null : "must be a prefix of at most 4 characters");

/** Every backed-up table's columns and their checks. */
export const TABLE_SPECS: Record<BackupTable, TableSpec> = {
  users: [
    ["id", id],
    ["username", visibleText(1, 64)],
    ["username_normalized", visibleText(1, 64)],
    ["email", nullable(visibleText(1, 255))],
    ["email_normalized", nullable(visibleText(1, 255))],
    ["email_verified", flag],
    ["password_hash", nullable(storedPasswordHash)],
    ["role", oneOf(ROLES)],
    ["blocked", flag],
    ["created_at", epochMs],
    ["updated_at", epochMs],
    ["last_login_at", nullable(epochMs)],
  ],
  settings: [
    ["key", both(text(1, 64), (v) => (/^[A-Za-z0-9_.:-]+$/.test(v as string) ? null : "must be a setting name"))],
    ["value", jsonText(65_536, anyJson, parseSafeJson)],
    ["updated_at", epochMs],
    ["updated_by", nullable(id)],
  ],
  api_tokens: [
    ["id", id],
    ["user_id", id],
    ["name", text(1, 100)],
    ["token_hash", sha256Hex],
    ["prefix", text(1, 16)],
    ["scopes", scopes],
    ["created_at", epochMs],
    ["expires_at", epochMs],
    ["last_used_at", nullable(epochMs)],
  ],
  user_secrets: [
    ["id", id],
    ["user_id", id],
    ["kind", both(text(1, 32), (v) => (/^[a-z0-9_-]+$/.test(v as string) ? null : "must be a secret kind"))],
    ["secret_envelope", secretEnvelope],
    ["created_at", epochMs],
    ["updated_at", epochMs],
  ],
  totp_factors: [
    ["user_id", id],
    ["confirmed_at", nullable(epochMs)],
    ["last_used_step", stepCount],
    ["created_at", epochMs],
    ["updated_at", epochMs],
  ],
  recovery_codes: [
    ["id", id],
    ["user_id", id],
    ["lookup", both(text(1, 16), (v) => (/^[0-9a-z]+$/.test(v as string) ? null : "must be a recovery code lookup"))],
    ["code_hash", argon2idPhc],
    ["created_at", epochMs],
    ["used_at", nullable(epochMs)],
  ],
  webauthn_credentials: [
    ["id", id],
    ["user_id", id],
    ["credential_id", base64url(1, 1400)],
    ["public_key", base64url(1, 8192)],
    ["counter", signCounter],
    ["transports", both(text(0, 256), (v) => (/^[a-z-]*(,[a-z-]+)*$/.test(v as string) ? null : "must list transports"))],
    ["device_type", oneOf(["singleDevice", "multiDevice"])],
    ["backed_up", flag],
    ["name", visibleText(1, 100)],
    ["created_at", epochMs],
    ["last_used_at", nullable(epochMs)],
  ],
  external_identities: [
    ["id", id],
    ["user_id", id],
    ["provider", providerId],
    ["issuer", visibleText(1, 512)],
    ["subject", text(1, 255)],
    ["email", nullable(visibleText(1, 320))],
    ["created_at", epochMs],
    ["last_used_at", nullable(epochMs)],
  ],
  vault_secrets: [
    ["name", secretName],
    ["secret_envelope", secretEnvelope],
    ["prefix", nullable(shownPrefix)],
    ["created_at", epochMs],
    ["updated_at", epochMs],
    ["updated_by", nullable(id)],
  ],
  user_vault_secrets: [
    ["id", id],
    ["user_id", id],
    ["name", secretName],
    ["secret_envelope", secretEnvelope],
    ["prefix", nullable(shownPrefix)],
    ["created_at", epochMs],
    ["updated_at", epochMs],
  ],
  audit_events: [
    ["id", id],
    ["type", oneOf(AUDIT_EVENT_TYPES)],
    ["at", epochMs],
    ["user_id", nullable(id)],
    ["actor_id", nullable(id)],
    ["ip", text(0, 64)],
    ["user_agent", text(0, 512)],
    ["details", jsonText(65_536, isJsonObject, parseSafeJson)],
    ["request_id", nullable(text(1, 64))],
  ],
};

/** The column names of a table, in order. */
export function columnsOf(table: BackupTable): string[] {
  return TABLE_SPECS[table].map(([column]) => column);
}

/** The column a table's rows are unique and ordered by when exporting. */
export const PRIMARY_KEYS: Record<BackupTable, string> = {
  users: "id",
  settings: "key",
  api_tokens: "id",
  user_secrets: "id",
  totp_factors: "user_id",
  recovery_codes: "id",
  webauthn_credentials: "id",
  external_identities: "id",
  audit_events: "id",
  vault_secrets: "name",
  user_vault_secrets: "id",
};
