import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import { parseImportMapping } from "../../../core/user-import/import-mapping.js";
import { readImportFile } from "../../../core/user-import/read-import-file.js";
import type { UserImportService } from "../../../core/user-import/user-import-service.js";
import type { AccountService } from "../../../core/users/account-service.js";
import { originOf } from "../../origin.js";
import { MAX_IMPORT_BYTES } from "./backup-routes.js";

/** The upload types and the format each one means. */
const FORMATS = { "text/csv": "csv", "application/x-ndjson": "jsonl" } as const;

interface ImportQuery {
  dry_run?: "true" | "false";
  map: string;
  roles?: string;
  default_role?: "user" | "admin";
}

const problem = {
  type: "object",
  additionalProperties: false,
  required: ["row", "field", "problem"],
  properties: {
    row: { type: "integer", description: "Row number in the file (1 is the first data row, after a CSV header)." },
    field: { type: "string", description: "The Gatehouse field with the problem." },
    problem: { type: "string", description: "What is wrong (never the value)." },
  },
};

const counts = { type: "object", additionalProperties: { type: "integer" } };

/**
 * `POST /api/admin/import/users` (superadmin + sudo, CSRF-protected like
 * every unsafe request): the body is the file itself, `text/csv` (with a
 * header row) or `application/x-ndjson` (one JSON object per line), as large
 * as a backup may be; the mapping travels in the query (`map`, `roles`,
 * `default_role`). `dry_run` defaults to true: the summary only; with
 * `dry_run=false` every row without a problem is inserted in one
 * transaction and `users_imported` is recorded.
 */
export async function userImportRoutes(app: FastifyInstance, deps: { userImport: UserImportService; accounts: AccountService }): Promise<void> {
  app.addContentTypeParser(Object.keys(FORMATS), { parseAs: "buffer", bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));

  app.post<{ Querystring: ImportQuery }>(
    "/import/users",
    {
      config: { access: "superadmin" },
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          required: ["map"],
          properties: {
            dry_run: { type: "string", enum: ["true", "false"], description: "`false` imports; anything else only reports (the default)." },
            map: { type: "string", minLength: 1, maxLength: 4096, description: "Gatehouse field = source column, comma-separated: `username=login,email=mail,password_hash=pw,role=group,blocked=!active,email_verified=confirmed` (username required)." },
            roles: { type: "string", maxLength: 4096, description: "Source role value = Gatehouse role (`user` or `admin`; never `superadmin`), comma-separated: `staff=admin,member=user`." },
            default_role: { type: "string", enum: ["user", "admin"], description: "Role of a row whose role value is not mapped (and of every row when no role column is mapped: `user` by default)." },
          },
        },
        // The raw file: read as bytes by the content-type parser above and checked by the import itself.
        consumes: Object.keys(FORMATS),
        body: { description: "The file to import: CSV (RFC 4180, a header row) or JSON lines, UTF-8, at most 100,000 rows.", contentMediaType: "text/csv" },
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            description: "What the import found and did: counts, and the problems of skipped rows by row number.",
            required: ["dry_run", "rows", "importable", "imported", "skipped", "by_scheme", "without_password", "roles", "blocked", "problems", "problems_omitted"],
            properties: {
              dry_run: { type: "boolean" },
              rows: { type: "integer" },
              importable: { type: "integer" },
              imported: { type: "integer", description: "0 on a dry run." },
              skipped: { type: "integer" },
              by_scheme: { ...counts, description: "Importable rows by password hash scheme." },
              without_password: { type: "integer" },
              roles: { ...counts, description: "Importable rows by the role they get." },
              blocked: { type: "integer" },
              problems: { type: "array", items: problem, description: "At most 1,000; the rest are counted in problems_omitted." },
              problems_omitted: { type: "integer" },
            },
          },
        },
      },
    },
    async (request) => {
      const auth = request.auth;
      if (!auth) throw new GatehouseError("unauthenticated");
      deps.accounts.requireRecentAuth(auth.session);
      const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      const format = Object.hasOwn(FORMATS, type) ? FORMATS[type as keyof typeof FORMATS] : undefined;
      if (format === undefined || !Buffer.isBuffer(request.body)) throw new GatehouseError("unsupported_media_type");
      const body = request.body;
      const mapping = parseImportMapping({ map: request.query.map, roles: request.query.roles, defaultRole: request.query.default_role });
      const table = readImportFile(body, format);
      const origin = originOf(request);
      return deps.userImport.importUsers(table, mapping, {
        apply: request.query.dry_run === "false",
        source: { format, kind: "upload", sha256: createHash("sha256").update(body).digest("hex"), bytes: body.length },
        actor: { actorId: auth.user.id, ip: origin.ip, userAgent: origin.userAgent, requestId: request.id },
      });
    },
  );
}
