import type { Kysely } from "kysely";
import type { SettingsStore } from "../../core/settings/settings-store.js";
import type { Database } from "./database.js";

/** The {@link SettingsStore} over Kysely (upserts in one transaction). */
export function createSqlSettingsStore(db: Kysely<Database>): SettingsStore {
  return {
    async all() {
      const rows = await db.selectFrom("settings").select(["key", "value"]).execute();
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },
    async put(values, by, at) {
      await db.transaction().execute(async (trx) => {
        for (const [key, value] of Object.entries(values)) {
          await trx
            .insertInto("settings")
            .values({ key, value, updated_at: at, updated_by: by })
            .onConflict((oc) => oc.column("key").doUpdateSet({ value, updated_at: at, updated_by: by }))
            .execute();
        }
      });
    },
  };
}
