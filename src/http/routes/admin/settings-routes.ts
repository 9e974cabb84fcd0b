import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import { REGISTRATION_MODES } from "../../../core/registration/registration-mode.js";
import { LOGIN_METHODS, SETTING_BOUNDS, type Settings } from "../../../core/settings/settings.js";
import type { SettingsService } from "../../../core/settings/settings-service.js";
import type { AccountService } from "../../../core/users/account-service.js";
import { originOf } from "../../origin.js";

const settingsProperties = {
  registration: { type: "string", enum: [...REGISTRATION_MODES] },
  emailVerificationRequired: { type: "boolean" },
  sessionIdleMinutes: { type: "integer", minimum: SETTING_BOUNDS.sessionIdleMinutes[0], maximum: SETTING_BOUNDS.sessionIdleMinutes[1] },
  sessionAbsoluteMinutes: { type: "integer", minimum: SETTING_BOUNDS.sessionAbsoluteMinutes[0], maximum: SETTING_BOUNDS.sessionAbsoluteMinutes[1] },
  sessionRememberDays: { type: "integer", minimum: SETTING_BOUNDS.sessionRememberDays[0], maximum: SETTING_BOUNDS.sessionRememberDays[1] },
  loginMethods: { type: "array", minItems: 1, maxItems: 10, uniqueItems: true, items: { type: "string", enum: [...LOGIN_METHODS] } },
} as const;

const settingsSchema = { type: "object", additionalProperties: false, properties: settingsProperties } as const;

/** `GET/PATCH /api/admin/settings`: superadmin only; a change needs a recent re-authentication. */
export async function settingsRoutes(app: FastifyInstance, deps: { settings: SettingsService; accounts: AccountService }): Promise<void> {
  app.get("/settings", { config: { access: "superadmin" }, schema: { response: { 200: settingsSchema } } }, async () => deps.settings.current());

  app.patch<{ Body: Partial<Settings> }>(
    "/settings",
    { config: { access: "superadmin" }, schema: { body: { ...settingsSchema, minProperties: 1 }, response: { 200: settingsSchema } } },
    async (request) => {
      const auth = request.auth;
      if (!auth) throw new GatehouseError("unauthenticated");
      deps.accounts.requireRecentAuth(auth.session);
      return deps.settings.update(auth.user.id, request.body, originOf(request));
    },
  );
}
