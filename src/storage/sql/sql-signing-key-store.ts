import type { Kysely } from "kysely";
import type { SigningAlg, SigningKeyStore, StoredSigningKey } from "../../core/identity/signing-key-store.js";
import type { Database } from "./database.js";

/** The {@link SigningKeyStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlSigningKeyStore(db: Kysely<Database>): SigningKeyStore {
  return {
    async list() {
      const rows = await db.selectFrom("signing_keys").selectAll().orderBy("created_at").orderBy("kid").execute();
      return rows.map(
        (row): StoredSigningKey => ({
          kid: row.kid,
          alg: row.alg as SigningAlg,
          publicJwk: row.public_jwk,
          privateEnvelope: row.private_jwk,
          state: row.state === "active" ? "active" : "retired",
          createdAt: Number(row.created_at),
          retiredAt: row.retired_at === null ? null : Number(row.retired_at),
        }),
      );
    },
    async insert(key) {
      await db
        .insertInto("signing_keys")
        .values({ kid: key.kid, alg: key.alg, public_jwk: key.publicJwk, private_jwk: key.privateEnvelope, state: key.state, created_at: key.createdAt, retired_at: key.retiredAt })
        .execute();
    },
    async retireAllBut(keep, at) {
      const rows = await db.updateTable("signing_keys").set({ state: "retired", retired_at: at }).where("state", "=", "active").where("kid", "<>", keep).returning("kid").execute();
      return rows.map((r) => r.kid);
    },
    async remove(kid) {
      const result = await db.deleteFrom("signing_keys").where("kid", "=", kid).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async purgeRetiredBefore(cutoff) {
      const result = await db.deleteFrom("signing_keys").where("state", "=", "retired").where("retired_at", "<=", cutoff).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
