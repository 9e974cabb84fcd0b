import type { Kysely, Selectable } from "kysely";
import type { ChallengePurpose, ChallengeRecord, PasskeyRecord, WebAuthnStore } from "../../core/mfa/webauthn/webauthn-store.js";
import type { Database, WebauthnChallengesTable, WebauthnCredentialsTable } from "./database.js";

function rowToPasskey(row: Selectable<WebauthnCredentialsTable>): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: row.transports === "" ? [] : row.transports.split(","),
    deviceType: row.device_type === "multiDevice" ? "multiDevice" : "singleDevice",
    backedUp: Number(row.backed_up) === 1,
    name: row.name,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

function rowToChallenge(row: Selectable<WebauthnChallengesTable>): ChallengeRecord {
  return {
    id: row.id,
    challengeHash: row.challenge_hash,
    purpose: row.purpose as ChallengePurpose,
    userId: row.user_id,
    bindingHash: row.binding_hash,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

/** The {@link WebAuthnStore} over Kysely. */
export function createSqlWebAuthnStore(db: Kysely<Database>): WebAuthnStore {
  return {
    async insertCredential(p) {
      await db
        .insertInto("webauthn_credentials")
        .values({
          id: p.id,
          user_id: p.userId,
          credential_id: p.credentialId,
          public_key: p.publicKey,
          counter: p.counter,
          transports: p.transports.join(","),
          device_type: p.deviceType,
          backed_up: p.backedUp ? 1 : 0,
          name: p.name,
          created_at: p.createdAt,
          last_used_at: p.lastUsedAt,
        })
        .execute();
    },
    async listByUser(userId) {
      const rows = await db.selectFrom("webauthn_credentials").selectAll().where("user_id", "=", userId).orderBy("created_at").orderBy("id").execute();
      return rows.map(rowToPasskey);
    },
    async hasAny(userId) {
      const row = await db.selectFrom("webauthn_credentials").select("id").where("user_id", "=", userId).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async findByCredentialId(credentialId) {
      const row = await db.selectFrom("webauthn_credentials").selectAll().where("credential_id", "=", credentialId).executeTakeFirst();
      return row ? rowToPasskey(row) : null;
    },
    async rename(userId, id, name) {
      const result = await db.updateTable("webauthn_credentials").set({ name }).where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async delete(userId, id) {
      const result = await db.deleteFrom("webauthn_credentials").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async recordUse(id, counter, backedUp, now) {
      const result = await db
        .updateTable("webauthn_credentials")
        .set({ counter, backed_up: backedUp ? 1 : 0, last_used_at: now })
        .where("id", "=", id)
        // Forward only; an authenticator without a counter (0) stays at 0.
        .where("counter", counter === 0 ? "=" : "<", counter)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async insertChallenge(c) {
      await db
        .insertInto("webauthn_challenges")
        .values({
          id: c.id,
          challenge_hash: c.challengeHash,
          purpose: c.purpose,
          user_id: c.userId,
          binding_hash: c.bindingHash,
          created_at: c.createdAt,
          expires_at: c.expiresAt,
        })
        .execute();
    },
    async consumeChallenge(challengeHash, purpose, bindingHash, now) {
      // One DELETE … RETURNING: a challenge serves one ceremony, never two.
      const row = await db
        .deleteFrom("webauthn_challenges")
        .where("challenge_hash", "=", challengeHash)
        .where("purpose", "=", purpose)
        .where("binding_hash", "=", bindingHash)
        .where("expires_at", ">", now)
        .returningAll()
        .executeTakeFirst();
      return row ? rowToChallenge(row) : null;
    },
    async deleteExpiredChallenges(now) {
      const result = await db.deleteFrom("webauthn_challenges").where("expires_at", "<=", now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
