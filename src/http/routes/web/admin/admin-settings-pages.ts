import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GatehouseError, isGatehouseError } from "../../../../core/errors.js";
import { isRegistrationMode, type RegistrationMode } from "../../../../core/registration/registration-mode.js";
import { LOGIN_METHODS, type LoginMethod, type Settings } from "../../../../core/settings/settings.js";
import type { FormErrors } from "../../../../web/components.js";
import { formChecked, formValue, formValues, type FormBody } from "../../../../web/form.js";
import { restoreConfirmPage, settingsPage, type SettingsPageData } from "../../../../web/admin/settings-page.js";
import { MAX_IMPORT_BYTES } from "../../admin/backup-routes.js";
import { clearSessionCookie } from "../../../plugins/session-cookie.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { actorOf, isSudoRefusal, needsSudo, NOTICE_QUERY, sudo } from "./admin-web-support.js";
import { acceptSingleFileUpload, uploadedFile } from "./multipart-upload.js";

const SUPERADMIN = { access: "superadmin" } as const;
const NUMBERS = ["sessionIdleMinutes", "sessionAbsoluteMinutes", "sessionRememberDays"] as const;

/** The settings form as a change, or the fields that are not whole numbers. */
function readSettings(form: FormBody | undefined): { change: Partial<Settings>; bad: string[] } {
  const change: Partial<Settings> = {
    registration: formValue(form, "registration", 16) as RegistrationMode,
    emailVerificationRequired: formChecked(form, "emailVerificationRequired"),
    loginMethods: formValues(form, "loginMethods").filter((m): m is LoginMethod => (LOGIN_METHODS as readonly string[]).includes(m)),
  };
  const bad: string[] = [];
  if (!isRegistrationMode(change.registration)) {
    bad.push("registration");
    delete change.registration;
  }
  for (const key of NUMBERS) {
    const text = formValue(form, key, 16).trim();
    if (!/^[0-9]{1,9}$/.test(text)) bad.push(key);
    else change[key] = Number(text);
  }
  return { change, bad };
}

const FIELD_MESSAGES: Record<string, string> = {
  sessionIdleMinutes: "Enter a whole number of minutes within the allowed range.",
  sessionAbsoluteMinutes: "Enter a whole number of minutes within the allowed range (at least the idle timeout).",
  sessionRememberDays: "Enter a whole number of days within the allowed range.",
  loginMethods: "Keep at least one sign-in method.",
  registration: "Choose closed, by invitation or open.",
  emailVerificationRequired: "Invalid value.",
};

/** `/admin/settings` (superadmin): runtime settings, backup download and restore upload, every change behind sudo. */
export async function adminSettingsPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { settings, backups } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, extra: Partial<SettingsPageData> = {}, status = 200) {
    const data: SettingsPageData = { settings: await settings.current(), needsSudo: needsSudo(deps, actorOf(request).session), ...extra };
    return sendPage(reply, settingsPage(pageContext(request, reply), data), status);
  }

  app.get("/admin/settings", { config: SUPERADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } }, async (request, reply) =>
    render(request, reply),
  );

  app.post<{ Body: FormBody }>("/admin/settings", { config: SUPERADMIN }, async (request, reply) => {
    const { change, bad } = readSettings(request.body);
    const shown: Settings = { ...(await settings.current()), ...change };
    const fail = (fields: string[], form: string | undefined, status: number) => {
      const errors: FormErrors = { fields: Object.fromEntries(fields.map((f) => [f, FIELD_MESSAGES[f] ?? "Invalid value."])) };
      if (form) errors.form = form;
      return render(request, reply, { settings: shown, errors }, status);
    };
    if (bad.length > 0) return fail(bad, "Some settings are not valid.", 400);
    let actor;
    try {
      actor = await sudo(deps, request, reply, request.body);
    } catch (err) {
      if (!isSudoRefusal(err)) throw err;
      return render(request, reply, { settings: shown, errors: { form: `${err.message}.`, fields: { password: `${err.message}.` } } }, err.status);
    }
    try {
      await settings.update(actor.user.id, change, actor.origin);
    } catch (err) {
      if (isGatehouseError(err) && err.code === "invalid_request") return fail(err.fields ?? [], "Some settings are not valid.", 400);
      throw err;
    }
    return seeOther(reply, `${request.basePath}/admin/settings?notice=settings_saved`);
  });

  // BKP-01: a CSRF-protected POST, superadmin + sudo, audited with size and SHA-256 (like GET /api/admin/backup).
  app.post<{ Body: FormBody }>("/admin/backup", { config: SUPERADMIN }, async (request, reply) => {
    let actor;
    try {
      actor = await sudo(deps, request, reply, request.body);
    } catch (err) {
      if (!isSudoRefusal(err)) throw err;
      return render(request, reply, { backupError: `${err.message}.` }, err.status);
    }
    const passphrase = formValue(request.body, "passphrase", 1024);
    const now = deps.clock.now();
    const result = await backups.export(now, passphrase === "" ? undefined : passphrase);
    await deps.audit.record({
      type: "backup_exported",
      actorId: actor.user.id,
      details: { sha256: result.sha256, bytes: result.bytes.length, encrypted: result.encrypted },
      ...actor.origin,
    });
    const name = `gatehouse-backup-${new Date(now).toISOString().slice(0, 19).replace(/:/g, "")}${result.encrypted ? ".ghbackup" : ".json"}`;
    return reply
      .header("Content-Disposition", `attachment; filename="${name}"`)
      .header("Cache-Control", "no-store")
      .type(result.encrypted ? "application/octet-stream" : "application/json; charset=utf-8")
      .send(result.bytes);
  });

  // The restore upload: multipart (a plain HTML form, no script), size enforced while streaming.
  await app.register(async (upload) => {
    acceptSingleFileUpload(upload, "file", MAX_IMPORT_BYTES);
    upload.post<{ Body: FormBody }>("/admin/restore", { config: SUPERADMIN }, async (request, reply) => {
      const file = uploadedFile(request);
      if (file === null || file.length === 0) return render(request, reply, { restoreError: "Choose a backup file." }, 400);
      let actor;
      try {
        actor = await sudo(deps, request, reply, request.body);
      } catch (err) {
        if (!isSudoRefusal(err)) throw err;
        return render(request, reply, { restoreError: `${err.message}.` }, err.status);
      }
      const passphrase = formValue(request.body, "passphrase", 1024) || undefined;
      const confirm = formValue(request.body, "confirm", 64);
      try {
        if (confirm === "") {
          const summary = await backups.inspect(file, passphrase);
          return sendPage(reply, restoreConfirmPage(pageContext(request, reply), { summary, needsSudo: needsSudo(deps, actor.session) }));
        }
        const sha256 = createHash("sha256").update(file).digest("hex");
        if (sha256 !== confirm) throw new GatehouseError("invalid_request", { fields: ["file"] });
        await backups.restore(file, { at: deps.clock.now(), actorId: actor.user.id, ip: actor.origin.ip, userAgent: actor.origin.userAgent, requestId: request.id }, passphrase);
      } catch (err) {
        if (!isGatehouseError(err) || err.status >= 500) throw err;
        const message = err.code === "invalid_request" && err.fields?.includes("file") ? "That is not the file you checked. Start again." : `${err.message}.`;
        return render(request, reply, { restoreError: message }, err.status);
      }
      deps.sessions.forgetAll();
      clearSessionCookie(reply, deps.config);
      return seeOther(reply, `${request.basePath}/login?notice=restore_done`);
    });
  });
}
