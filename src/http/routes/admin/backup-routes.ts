import type { FastifyInstance, FastifyRequest } from "fastify";
import type { BackupService } from "../../../backup/backup-service.js";
import type { AuditLog } from "../../../core/audit/audit-log.js";
import type { Clock } from "../../../core/clock.js";
import { GatehouseError } from "../../../core/errors.js";
import type { SessionService } from "../../../core/sessions/session-service.js";
import type { AccountService } from "../../../core/users/account-service.js";
import { originOf } from "../../origin.js";
import { freeObject } from "../../schemas.js";

/** Largest backup accepted by the import route (256 MiB). */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

function passphraseOf(request: FastifyRequest): string | undefined {
  const value = request.headers["x-backup-passphrase"];
  if (Array.isArray(value)) throw new GatehouseError("invalid_request", { fields: ["X-Backup-Passphrase"] });
  if (value !== undefined && value.length > 1024) throw new GatehouseError("invalid_request", { fields: ["X-Backup-Passphrase"] });
  return value === "" ? undefined : value;
}

/**
 * `GET /api/admin/backup` and `POST /api/admin/import` (superadmin + sudo,
 * BKP-01). The passphrase, when any, travels in `X-Backup-Passphrase` (never
 * in the URL; the header is redacted from logs). Import reads the raw file
 * (`application/octet-stream`): without `?confirm=true` it only validates and
 * answers what the restore would do (the admins it would create, BKP-04);
 * with it, it replaces all durable state in one transaction and signs
 * everybody out.
 */
export async function backupRoutes(
  app: FastifyInstance,
  deps: { backups: BackupService; accounts: AccountService; sessions: SessionService; audit: AuditLog; clock: Clock },
): Promise<void> {
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer", bodyLimit: MAX_IMPORT_BYTES }, (_req, body, done) => done(null, body));

  function sudo(request: FastifyRequest) {
    const auth = request.auth;
    if (!auth) throw new GatehouseError("unauthenticated");
    deps.accounts.requireRecentAuth(auth.session);
    return auth;
  }

  app.get(
    "/backup",
    {
      config: { access: "superadmin" },
      schema: {
        // The file is sent as bytes (never serialized): these schemas describe it, they do not shape it.
        response: {
          200: {
            description: "The backup file (Content-Disposition: attachment): JSON, or the encrypted `.ghbackup` format when a passphrase was given.",
            content: { "application/json": { schema: freeObject("The backup document.") }, "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
          },
        },
      },
    },
    async (request, reply) => {
    const auth = sudo(request);
    const passphrase = passphraseOf(request);
    const now = deps.clock.now();
    const result = await deps.backups.export(now, passphrase);
    await deps.audit.record({
      type: "backup_exported",
      actorId: auth.user.id,
      details: { sha256: result.sha256, bytes: result.bytes.length, encrypted: result.encrypted },
      ...originOf(request),
    });
    const name = `gatehouse-backup-${new Date(now).toISOString().slice(0, 19).replace(/:/g, "")}${result.encrypted ? ".ghbackup" : ".json"}`;
    return reply
      .header("Content-Disposition", `attachment; filename="${name}"`)
      .header("Cache-Control", "no-store")
      .type(result.encrypted ? "application/octet-stream" : "application/json; charset=utf-8")
      .send(result.bytes);
  });

  app.post<{ Querystring: { confirm?: "true" } }>(
    "/import",
    {
      config: { access: "superadmin" },
      bodyLimit: MAX_IMPORT_BYTES,
      schema: {
        querystring: { type: "object", additionalProperties: false, properties: { confirm: { type: "string", enum: ["true"] } } },
        // The raw file: read as bytes by the content-type parser above, so nothing is validated here (the backup service checks it).
        consumes: ["application/octet-stream"],
        body: { description: "A backup file as exported by GET /api/admin/backup (JSON or `.ghbackup`).", contentMediaType: "application/octet-stream" },
        response: {
          200: {
            type: "object",
            additionalProperties: true,
            required: ["applied"],
            description: "Without ?confirm=true: `{applied: false, summary}` (what the restore would do); with it: `{applied: true, counts, sessionsEnded, sha256}`.",
            properties: { applied: { type: "boolean" } },
          },
        },
      },
    },
    async (request) => {
      const auth = sudo(request);
      if (!Buffer.isBuffer(request.body)) throw new GatehouseError("unsupported_media_type");
      const passphrase = passphraseOf(request);
      if (request.query.confirm !== "true") return { applied: false, summary: await deps.backups.inspect(request.body, passphrase) };
      const origin = originOf(request);
      const result = await deps.backups.restore(
        request.body,
        { at: deps.clock.now(), actorId: auth.user.id, ip: origin.ip, userAgent: origin.userAgent, requestId: request.id },
        passphrase,
      );
      deps.sessions.forgetAll();
      return { applied: true, counts: result.counts, sessionsEnded: result.sessionsEnded, sha256: result.fileSha256 };
    },
  );
}
