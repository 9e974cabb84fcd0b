import type { BackupSummary } from "../../backup/read-backup.js";
import { REGISTRATION_MODES, type RegistrationMode } from "../../core/registration/registration-mode.js";
import { LOGIN_METHODS, SETTING_BOUNDS, type Settings } from "../../core/settings/settings.js";
import { checkbox, csrfField, field, formError, type FormErrors } from "../components.js";
import { html, type SafeHtml } from "../html.js";
import { href, type PageContext } from "../page-context.js";
import { adminPage, roleBadge, sudoField } from "./admin-layout.js";

/** What the settings page shows: the settings (or the submitted values), and errors per form. */
export interface SettingsPageData {
  settings: Settings;
  needsSudo: boolean;
  errors?: FormErrors;
  backupError?: string;
  restoreError?: string;
}

const REGISTRATION_LABELS: Record<RegistrationMode, string> = {
  closed: "Closed: only admins create accounts or invite people",
  invite: "By invitation: only people an admin invited",
  open: "Open: anyone may create an account",
};

/** The registration mode as a select (closed, invite, open). */
function registrationSelect(mode: RegistrationMode, error?: string): SafeHtml {
  return html`<div class="field"><label for="f-registration">Who may create an account</label>
<select id="f-registration" name="registration"${error ? html` aria-invalid="true" aria-describedby="f-registration-error"` : ""}>${REGISTRATION_MODES.map(
    (m) => html`<option value="${m}"${m === mode ? html` selected` : ""}>${REGISTRATION_LABELS[m]}</option>`,
  )}</select>
${error ? html`<div class="field-error" id="f-registration-error">${error}</div>` : ""}</div>`;
}

/** The largest backup the restore form accepts, for the hint. */
export const RESTORE_HINT_MB = 256;

/** `/admin/settings` (superadmin): runtime settings, backup download and restore upload. */
export function settingsPage(ctx: PageContext, d: SettingsPageData): SafeHtml {
  const s = d.settings;
  const bound = (k: keyof typeof SETTING_BOUNDS) => ({ min: SETTING_BOUNDS[k][0], max: SETTING_BOUNDS[k][1] });
  return adminPage(ctx, {
    title: "Settings",
    body: html`<h1>Settings</h1>
<section class="card" aria-labelledby="settings-h">
<h2 id="settings-h">Sign-in and sessions</h2>
${formError(d.errors)}
<form class="stack settings-form" method="post" action="${href(ctx, "/admin/settings")}">
${csrfField(ctx)}
<input type="hidden" name="form" value="settings">
${registrationSelect(s.registration, d.errors?.fields?.registration)}
${checkbox({ name: "emailVerificationRequired", label: "New accounts must verify their email before signing in", checked: s.emailVerificationRequired })}
${field({ name: "sessionIdleMinutes", label: "Idle timeout (minutes)", type: "number", value: String(s.sessionIdleMinutes), required: true, ...bound("sessionIdleMinutes"), errors: d.errors })}
${field({ name: "sessionAbsoluteMinutes", label: "Longest session (minutes)", type: "number", value: String(s.sessionAbsoluteMinutes), required: true, ...bound("sessionAbsoluteMinutes"), errors: d.errors })}
${field({ name: "sessionRememberDays", label: "“Remember me” lasts (days)", type: "number", value: String(s.sessionRememberDays), required: true, ...bound("sessionRememberDays"), errors: d.errors })}
<fieldset><legend>Sign-in methods</legend>${LOGIN_METHODS.map((m) => checkbox({ name: "loginMethods", value: m, label: m, checked: s.loginMethods.includes(m) }))}</fieldset>
${sudoField(d.needsSudo, d.errors?.fields?.password)}
<button type="submit">Save settings</button>
</form>
</section>
<div class="grid">
<section class="card" aria-labelledby="backup-h">
<h2 id="backup-h">Download a backup</h2>
<p class="muted">A consistent snapshot of users, settings, API tokens and the audit log. Sessions are never included. With a passphrase the file is encrypted (AES-256-GCM); keep the passphrase somewhere else.</p>
${d.backupError ? html`<div class="alert alert-error" role="alert">${d.backupError}</div>` : ""}
<form class="stack" method="post" action="${href(ctx, "/admin/backup")}">
${csrfField(ctx)}
${field({ name: "passphrase", label: "Passphrase (optional)", type: "password", autocomplete: "new-password", maxlength: 1024 })}
${sudoField(d.needsSudo)}
<button type="submit" class="secondary">Download backup</button>
</form>
</section>
<section class="card" aria-labelledby="restore-h">
<h2 id="restore-h">Restore from a backup</h2>
<p class="muted">Replaces every user, setting, token and audit event, and signs everybody out. The file is checked first and you confirm what it contains. At most ${RESTORE_HINT_MB} MB.</p>
${d.restoreError ? html`<div class="alert alert-error" role="alert">${d.restoreError}</div>` : ""}
${restoreForm(ctx, { needsSudo: d.needsSudo })}
</section>
</div>`,
  });
}

function restoreForm(ctx: PageContext, o: { needsSudo: boolean; confirmSha256?: string }): SafeHtml {
  return html`<form class="stack" method="post" action="${href(ctx, "/admin/restore")}" enctype="multipart/form-data">
${csrfField(ctx)}
${o.confirmSha256 ? html`<input type="hidden" name="confirm" value="${o.confirmSha256}">` : ""}
<div class="field"><label for="f-file">Backup file</label><input id="f-file" name="file" type="file" accept=".json,.ghbackup,application/json,application/octet-stream" required></div>
${field({ name: "passphrase", label: "Passphrase (if the backup is encrypted)", type: "password", autocomplete: "off", maxlength: 1024 })}
${sudoField(o.needsSudo)}
<button type="submit" class="${o.confirmSha256 ? "danger" : "secondary"}">${o.confirmSha256 ? "Restore now" : "Check backup"}</button>
</form>`;
}

/** The confirmation step of a restore: what the file holds (and the admins it would create); the same file must be chosen again. */
export function restoreConfirmPage(ctx: PageContext, o: { summary: BackupSummary; needsSudo: boolean }): SafeHtml {
  const s = o.summary;
  return adminPage(ctx, {
    title: "Confirm restore",
    body: html`<div class="card">
<h1>Restore this backup?</h1>
<dl class="facts">
<dt>Taken</dt><dd>${s.createdAt}</dd>
<dt>Schema</dt><dd class="mono">${s.schema}</dd>
<dt>Encrypted</dt><dd>${s.encrypted ? "yes" : "no"}</dd>
<dt>Size</dt><dd>${s.bytes.toLocaleString("en-US")} bytes</dd>
<dt>SHA-256</dt><dd class="mono small wrap">${s.fileSha256}</dd>
<dt>Contents</dt><dd>${Object.entries(s.counts).map(([t, n]) => html`${n.toLocaleString("en-US")} ${t.replace("_", " ")}<br>`)}</dd>
</dl>
<h2>Administrators after the restore (${s.privileged.length})</h2>
${
  s.privileged.length === 0
    ? html`<p class="alert alert-warn">This backup has no administrator: nobody could sign in to the dashboard afterwards.</p>`
    : html`<ul>${s.privileged.map((p) => html`<li><span class="wrap">${p.username}</span> ${roleBadge(p.role)}</li>`)}</ul>`
}
<div class="alert alert-warn">Every current user, setting, API token and audit event is replaced, and everybody (you too) is signed out. To go ahead, choose the same file again.</div>
${restoreForm(ctx, { needsSudo: o.needsSudo, confirmSha256: s.fileSha256 })}
<p><a href="${href(ctx, "/admin/settings")}">Cancel</a></p>
</div>`,
  });
}
