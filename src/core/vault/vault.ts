import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import { contextOf, USER_VAULT_SECRETS_COLUMN, VAULT_SECRETS_COLUMN } from "../secrets/encrypted-columns.js";
import type { SecretBox, SecretContext } from "../secrets/secret-box.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import { renderHeaderTemplate, type HeaderTemplate } from "./header-template.js";
import { checkSecretName, checkSecretValue, prefixOf } from "./vault-names.js";
import type { VaultStore } from "./vault-store.js";

/** What anyone is ever shown of an operator secret: never its value. */
export interface VaultSecretInfo {
  name: string;
  /** The first 4 characters of a value of 16 or more characters, else null. */
  prefix: string | null;
  createdAt: number;
  updatedAt: number;
  updatedBy: string | null;
}

/** What a user is shown of one of their key names: whether it is stored, and its prefix; never the value. */
export interface UserKeyInfo {
  name: string;
  /** False for a stored key no rule uses any more (it can only be deleted). */
  allowed: boolean;
  stored: boolean;
  prefix: string | null;
  updatedAt: number | null;
}

/** One header to inject into a request forwarded to an upstream. */
export interface HeaderInjection {
  /** Lower-case header name. */
  header: string;
  template: HeaderTemplate;
}

/** Who changes a secret, and from where (the audit trail). */
export interface VaultActor {
  /** The superadmin or user; null from the CLI. */
  userId: string | null;
  origin: SessionOrigin;
  /** `cli` when set from the command line. */
  via?: string;
}

/** The secret vault: operator secrets and users' own keys, write-only, sealed at rest, audited on every change. */
export interface Vault {
  /** Every operator secret (metadata only). */
  list(): Promise<VaultSecretInfo[]>;
  /** One operator secret's metadata; 404 `not_found`. */
  show(name: string): Promise<VaultSecretInfo>;
  /** Stores or replaces an operator secret; audited `secret_changed` (`scope: global`). 400 for a bad name or value. */
  set(name: string, value: string, actor: VaultActor): Promise<{ secret: VaultSecretInfo; created: boolean }>;
  /** Deletes an operator secret; 404 when there is none. */
  remove(name: string, actor: VaultActor): Promise<void>;
  /** The key names the rules let users store (`${user_secret:<name>}` references), with what the user stored. */
  listOwn(userId: string): Promise<UserKeyInfo[]>;
  /** Stores or replaces a user's key; 400 `invalid_request` (field `name`) for a name no rule uses. */
  setOwn(userId: string, name: string, value: string, origin: SessionOrigin): Promise<{ key: UserKeyInfo; created: boolean }>;
  /** Deletes a user's key; 404 when there is none. */
  removeOwn(userId: string, name: string, origin: SessionOrigin): Promise<void>;
  /**
   * The values of `injections` for one request: header → value, or null
   * when a secret it names is missing (or the request is anonymous and it
   * names a user key): the header is then removed, never sent with a
   * placeholder. Decrypted values are kept in memory for a short while.
   */
  render(injections: readonly HeaderInjection[], userId: string | null): Promise<Map<string, string | null>>;
}

/** How long a decrypted value (or its absence) is reused, ms. A change through this instance applies at once. */
export const VAULT_CACHE_MS = 30_000;
const MAX_CACHED = 10_000;

/** Builds the {@link Vault}. `allowedUserNames` gives the key names the rules in force refer to. */
export function createVault(deps: {
  store: VaultStore;
  box: SecretBox;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  allowedUserNames(): ReadonlySet<string>;
  /** Told when a stored value cannot be decrypted while rendering (the header is then removed). */
  onUnreadable?(what: { scope: "global" | "user"; name: string; error: unknown }): void;
}): Vault {
  const { store, box, audit, clock, random } = deps;
  const cache = new Map<string, { value: string | null; at: number }>();
  const globalCtx = (name: string): SecretContext => contextOf(VAULT_SECRETS_COLUMN, { name });
  const userCtx = (userId: string, name: string): SecretContext => contextOf(USER_VAULT_SECRETS_COLUMN, { user_id: userId, name });
  const globalKey = (name: string) => `g/${name}`;
  const userKey = (userId: string, name: string) => `u/${userId}/${name}`;

  async function cached(key: string, load: () => Promise<string | null>): Promise<string | null> {
    const hit = cache.get(key);
    const now = clock.now();
    if (hit && now - hit.at < VAULT_CACHE_MS && now >= hit.at) return hit.value;
    const value = await load();
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(key, { value, at: now });
    return value;
  }

  async function readGlobal(name: string): Promise<string | null> {
    const row = await store.find(name);
    return row === null ? null : box.open(row.envelope, globalCtx(name));
  }

  async function readUser(userId: string, name: string): Promise<string | null> {
    const row = await store.findForUser(userId, name);
    return row === null ? null : box.open(row.envelope, userCtx(userId, name));
  }

  function checkAllowed(name: string): void {
    if (!deps.allowedUserNames().has(name)) throw new GatehouseError("invalid_request", { fields: ["name"] });
  }

  const info = (r: { name: string; prefix: string | null; createdAt: number; updatedAt: number; updatedBy: string | null }): VaultSecretInfo => ({
    name: r.name,
    prefix: r.prefix,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    updatedBy: r.updatedBy,
  });

  return {
    async list() {
      return (await store.list()).map(info);
    },
    async show(name) {
      checkSecretName(name);
      const row = await store.find(name);
      if (!row) throw new GatehouseError("not_found");
      return info(row);
    },
    async set(name, value, actor) {
      checkSecretName(name);
      checkSecretValue(value);
      const now = clock.now();
      const row = { name, envelope: box.seal(value, globalCtx(name)), prefix: prefixOf(value), createdAt: now, updatedAt: now, updatedBy: actor.userId };
      const created = await store.put(row);
      cache.delete(globalKey(name));
      await audit.record({
        type: "secret_changed",
        actorId: actor.userId,
        details: { name, action: created ? "created" : "updated", scope: "global", ...(actor.via ? { via: actor.via } : {}) },
        ...actor.origin,
      });
      const stored = await store.find(name);
      return { secret: info(stored ?? row), created };
    },
    async remove(name, actor) {
      checkSecretName(name);
      if (!(await store.remove(name))) throw new GatehouseError("not_found");
      cache.delete(globalKey(name));
      await audit.record({ type: "secret_changed", actorId: actor.userId, details: { name, action: "deleted", scope: "global", ...(actor.via ? { via: actor.via } : {}) }, ...actor.origin });
    },
    async listOwn(userId) {
      const allowed = deps.allowedUserNames();
      const rows = new Map((await store.listForUser(userId)).map((r) => [r.name, r]));
      const names = [...new Set([...allowed, ...rows.keys()])].sort();
      return names.map((name) => {
        const row = rows.get(name);
        return { name, allowed: allowed.has(name), stored: row !== undefined, prefix: row?.prefix ?? null, updatedAt: row?.updatedAt ?? null };
      });
    },
    async setOwn(userId, name, value, origin) {
      checkSecretName(name);
      checkAllowed(name);
      checkSecretValue(value);
      const now = clock.now();
      const prefix = prefixOf(value);
      const created = await store.putForUser({ id: random.uuid(), userId, name, envelope: box.seal(value, userCtx(userId, name)), prefix, createdAt: now, updatedAt: now });
      cache.delete(userKey(userId, name));
      await audit.record({ type: "secret_changed", userId, actorId: userId, details: { name, action: created ? "created" : "updated", scope: "user" }, ...origin });
      return { key: { name, allowed: true, stored: true, prefix, updatedAt: now }, created };
    },
    async removeOwn(userId, name, origin) {
      checkSecretName(name);
      if (!(await store.removeForUser(userId, name))) throw new GatehouseError("not_found");
      cache.delete(userKey(userId, name));
      await audit.record({ type: "secret_changed", userId, actorId: userId, details: { name, action: "deleted", scope: "user" }, ...origin });
    },
    async render(injections, userId) {
      const out = new Map<string, string | null>();
      for (const { header, template } of injections) {
        const value = await renderHeaderTemplate(template, async (part) => {
          const scope = "secret" in part ? "global" : "user";
          const name = "secret" in part ? part.secret : part.userSecret;
          if (scope === "user" && userId === null) return null;
          try {
            return scope === "global" ? await cached(globalKey(name), () => readGlobal(name)) : await cached(userKey(userId!, name), () => readUser(userId!, name));
          } catch (error) {
            if (!isGatehouseError(error, "secret_unreadable")) throw error;
            deps.onUnreadable?.({ scope, name, error });
            return null;
          }
        });
        // Two entries for one header: the last one that renders wins; an earlier value is never dropped for a later miss.
        if (value !== null || !out.has(header)) out.set(header, value);
      }
      return out;
    },
  };
}
