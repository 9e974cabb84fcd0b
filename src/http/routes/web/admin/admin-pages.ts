import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../../../types.js";
import { adminAuditPages } from "./admin-audit-pages.js";
import { adminInvitationPages } from "./admin-invitation-pages.js";
import { adminOverviewPages } from "./admin-overview-pages.js";
import { adminSettingsPages } from "./admin-settings-pages.js";
import { adminUserPages } from "./admin-user-pages.js";
import { adminSecretPages } from "./admin-secret-pages.js";

/**
 * The admin dashboard (`/admin/**`, issue 5): admins only, settings and
 * backups superadmin only. Every change is a CSRF-checked form POST calling
 * the same core services as the JSON admin API.
 */
export async function adminPages(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await adminOverviewPages(app, deps);
  await adminUserPages(app, deps);
  await adminInvitationPages(app, deps);
  await adminAuditPages(app, deps);
  await adminSettingsPages(app, deps);
  if (deps.vault) await adminSecretPages(app, { ...deps, vault: deps.vault });
}
