import type { Clock } from "../clock.js";
import type { Random } from "../random.js";
import { contextOf, USER_SECRETS_COLUMN } from "./encrypted-columns.js";
import type { SecretBox, SecretContext } from "./secret-box.js";
import type { UserSecretStore } from "./user-secret-store.js";

/** Per-user secrets (second-factor seeds), encrypted at rest; plaintext exists only in memory. */
export interface UserSecrets {
  /** Stores `plaintext` as the user's secret of `kind`, replacing any previous one. */
  set(userId: string, kind: string, plaintext: string): Promise<void>;
  /**
   * The user's secret of `kind`, or null when there is none. A secret under
   * an old key is re-encrypted under the active one as it is read. Throws
   * `secret_unreadable` when it cannot be decrypted (fails closed).
   */
  get(userId: string, kind: string): Promise<string | null>;
  /** True when a secret was removed. */
  remove(userId: string, kind: string): Promise<boolean>;
}

const KIND = /^[a-z0-9_-]{1,32}$/;

/** The context a user's secret of `kind` is sealed for. */
export function userSecretContext(userId: string, kind: string): SecretContext {
  if (!KIND.test(kind)) throw new Error("a secret kind is 1 to 32 lower-case letters, digits, _ or -");
  return contextOf(USER_SECRETS_COLUMN, { user_id: userId, kind });
}

/** Builds the {@link UserSecrets} service. */
export function createUserSecrets(deps: { store: UserSecretStore; box: SecretBox; clock: Clock; random: Random }): UserSecrets {
  const { store, box, clock, random } = deps;
  return {
    async set(userId, kind, plaintext) {
      const now = clock.now();
      const envelope = box.seal(plaintext, userSecretContext(userId, kind));
      await store.put({ id: random.uuid(), userId, kind, envelope, createdAt: now, updatedAt: now });
    },
    async get(userId, kind) {
      const ctx = userSecretContext(userId, kind);
      const row = await store.find(userId, kind);
      if (!row) return null;
      const plaintext = box.open(row.envelope, ctx);
      if (box.needsRewrap(row.envelope)) {
        // Re-encrypt on read; if another writer changed the row meanwhile, its value stands.
        await store.replaceEnvelope(userId, kind, row.envelope, box.seal(plaintext, ctx), clock.now());
      }
      return plaintext;
    },
    remove: (userId, kind) => store.remove(userId, kind),
  };
}
