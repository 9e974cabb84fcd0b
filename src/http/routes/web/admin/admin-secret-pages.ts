import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isGatehouseError } from "../../../../core/errors.js";
import { userKeyNamesOf } from "../../../../core/vault/user-key-names.js";
import type { Vault } from "../../../../core/vault/vault.js";
import type { FormErrors } from "../../../../web/components.js";
import { formValue, type FormBody } from "../../../../web/form.js";
import { secretsPage, type SecretsPageData } from "../../../../web/admin/secrets-page.js";
import type { AppDeps } from "../../../types.js";
import { pageContext, seeOther, sendPage } from "../page.js";
import { actorOf, isSudoRefusal, needsSudo, NOTICE_QUERY, sudo } from "./admin-web-support.js";

const SUPERADMIN = { access: "superadmin" } as const;

/** `/admin/secrets` (superadmin): list, set and delete the vault's secrets; write-only, every change behind sudo. */
export async function adminSecretPages(app: FastifyInstance, deps: AppDeps & { vault: Vault }): Promise<void> {
  const { vault } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, extra: Partial<SecretsPageData> = {}, status = 200) {
    const data: SecretsPageData = {
      secrets: await vault.list(),
      userKeyNames: [...userKeyNamesOf(deps.gate.rules())].sort(),
      needsSudo: needsSudo(deps, actorOf(request).session),
      ...extra,
    };
    return sendPage(reply, secretsPage(pageContext(request, reply), data), status, { noReferrer: true });
  }

  app.get("/admin/secrets", { config: SUPERADMIN, schema: { querystring: { type: "object", additionalProperties: false, properties: NOTICE_QUERY } } }, async (request, reply) =>
    render(request, reply),
  );

  app.post<{ Body: FormBody }>("/admin/secrets", { config: SUPERADMIN }, async (request, reply) => {
    const name = formValue(request.body, "name", 64).trim();
    const value = formValue(request.body, "value", 8193);
    let actor;
    try {
      actor = await sudo(deps, request, reply, request.body);
    } catch (err) {
      if (!isSudoRefusal(err)) throw err;
      return render(request, reply, { name, errors: { form: `${err.message}.`, fields: { password: `${err.message}.` } } }, err.status);
    }
    try {
      await vault.set(name, value, { userId: actor.user.id, origin: actor.origin });
    } catch (err) {
      if (!isGatehouseError(err) || err.code !== "invalid_request") throw err;
      const fields: FormErrors["fields"] = {};
      for (const f of err.fields ?? []) fields[f] = f === "name" ? "Use 1 to 64 lower-case letters, digits, _ and -." : "Enter 1 to 8192 visible characters or spaces, without line breaks.";
      return render(request, reply, { name, errors: { form: "The secret was not saved.", fields } }, 400);
    }
    return seeOther(reply, `${request.basePath}/admin/secrets?notice=secret_saved`);
  });

  app.post<{ Params: { name: string }; Body: FormBody }>(
    "/admin/secrets/:name/delete",
    { config: SUPERADMIN, schema: { params: { type: "object", additionalProperties: false, required: ["name"], properties: { name: { type: "string", maxLength: 64 } } } } },
    async (request, reply) => {
      let actor;
      try {
        actor = await sudo(deps, request, reply, request.body);
      } catch (err) {
        if (!isSudoRefusal(err)) throw err;
        return render(request, reply, { errors: { form: `${err.message}.` } }, err.status);
      }
      await vault.remove(request.params.name, { userId: actor.user.id, origin: actor.origin });
      return seeOther(reply, `${request.basePath}/admin/secrets?notice=secret_deleted`);
    },
  );
}
