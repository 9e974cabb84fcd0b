import { importInvalid } from "./import-invalid.js";

/** The Gatehouse fields an import can fill; everything else in a row is ignored. */
export const IMPORT_FIELDS = ["username", "email", "password_hash", "role", "blocked", "email_verified"] as const;

/** One of {@link IMPORT_FIELDS}. */
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** The roles an import may give: never `superadmin`. */
export type ImportableRole = "user" | "admin";

/** Where a Gatehouse field comes from: a source column, for the two flags optionally negated (`blocked=!is_active`). */
export interface ColumnRef {
  column: string;
  negate: boolean;
}

/** How source rows become Gatehouse users. */
export interface ImportMapping {
  columns: Partial<Record<ImportField, ColumnRef>>;
  /** Source role value → Gatehouse role; `user` and `admin` map to themselves unless overridden. */
  roles: Map<string, ImportableRole>;
  /** The role of a row whose role value is not in {@link roles} (or of every row when no role column is mapped); null: such a row is a problem. */
  defaultRole: ImportableRole | null;
}

/** The mapping as given on the command line or in query parameters. */
export interface MappingInput {
  /** `username=login,email=mail,password_hash=pw,blocked=!active` */
  map: string;
  /** `staff=admin,member=user` */
  roles?: string | undefined;
  defaultRole?: string | undefined;
}

const FLAG_FIELDS: ReadonlySet<string> = new Set(["blocked", "email_verified"]);

function pairs(text: string, what: string): Array<[string, string]> {
  if (text.length > 4096) throw importInvalid(`${what}: longer than 4096 characters`);
  return text
    .split(",")
    .filter((part) => part.trim() !== "")
    .map((part, i) => {
      const eq = part.indexOf("=");
      if (eq <= 0 || eq === part.length - 1) throw importInvalid(`${what}: entry ${i + 1} is not name=value`);
      return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    });
}

function importableRole(value: string, what: string): ImportableRole {
  if (value === "superadmin") throw importInvalid(`${what}: an import never assigns superadmin`);
  if (value !== "user" && value !== "admin") throw importInvalid(`${what}: a role must be user or admin`);
  return value;
}

/**
 * Parses and checks a mapping: known fields only, each once, `username`
 * required, roles `user` or `admin` only (`superadmin` is refused as an
 * option). Throws `import_invalid`.
 */
export function parseImportMapping(input: MappingInput): ImportMapping {
  const columns: Partial<Record<ImportField, ColumnRef>> = {};
  for (const [field, source] of pairs(input.map, "map")) {
    if (!(IMPORT_FIELDS as readonly string[]).includes(field)) throw importInvalid(`map: unknown field (the fields are ${IMPORT_FIELDS.join(", ")})`);
    const key = field as ImportField;
    if (columns[key] !== undefined) throw importInvalid(`map: ${key} is mapped twice`);
    const negate = source.startsWith("!");
    if (negate && !FLAG_FIELDS.has(key)) throw importInvalid(`map: only blocked and email_verified can be negated with "!"`);
    const column = negate ? source.slice(1).trim() : source;
    if (column === "") throw importInvalid(`map: ${key} names no column`);
    columns[key] = { column, negate };
  }
  if (columns.username === undefined) throw importInvalid("map: username is required");
  const roles = new Map<string, ImportableRole>([
    ["user", "user"],
    ["admin", "admin"],
  ]);
  for (const [source, target] of pairs(input.roles ?? "", "roles")) roles.set(source, importableRole(target, "roles"));
  let defaultRole: ImportableRole | null = null;
  if (input.defaultRole !== undefined && input.defaultRole !== "") defaultRole = importableRole(input.defaultRole, "default role");
  else if (columns.role === undefined) defaultRole = "user";
  return { columns, roles, defaultRole };
}
