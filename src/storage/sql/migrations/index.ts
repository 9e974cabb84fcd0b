import type { Migration } from "kysely";
import * as m0001 from "./0001_init.js";
import * as m0002 from "./0002_audit_request_id.js";
import * as m0003 from "./0003_admin_tokens_settings.js";
import * as m0004 from "./0004_admin_dashboard_indexes.js";
import * as m0005 from "./0005_mail_outbox.js";
import * as m0006 from "./0006_invitations.js";
import * as m0007 from "./0007_user_secrets.js";
import * as m0008 from "./0008_sign_in_assurance.js";
import * as m0009 from "./0009_totp.js";
import * as m0010 from "./0010_recovery_codes.js";
import * as m0011 from "./0011_webauthn.js";
import * as m0012 from "./0012_oauth.js";
import * as m0013 from "./0013_signing_keys.js";
import * as m0014 from "./0014_vault.js";

/** Every migration, in order. Names are frozen once shipped. */
export const migrations: Record<string, Migration> = {
  "0001_init": m0001,
  "0002_audit_request_id": m0002,
  "0003_admin_tokens_settings": m0003,
  "0004_admin_dashboard_indexes": m0004,
  "0005_mail_outbox": m0005,
  "0006_invitations": m0006,
  "0007_user_secrets": m0007,
  "0008_sign_in_assurance": m0008,
  "0009_totp": m0009,
  "0010_recovery_codes": m0010,
  "0011_webauthn": m0011,
  "0012_oauth": m0012,
  "0013_signing_keys": m0013,
  "0014_vault": m0014,
};
