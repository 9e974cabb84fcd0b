/** An operator's named secret as stored: its envelope, never the value. */
export interface VaultSecretRow {
  name: string;
  /** The {@link SecretBox} envelope, bound to `vault_secrets|secret_envelope|<name>`. */
  envelope: string;
  /** The shown prefix (see `prefixOf`), or null. */
  prefix: string | null;
  createdAt: number;
  updatedAt: number;
  /** The superadmin who last set it; null from the CLI. */
  updatedBy: string | null;
}

/** A user's own key as stored: its envelope, never the value. */
export interface UserVaultSecretRow {
  id: string;
  userId: string;
  name: string;
  /** The {@link SecretBox} envelope, bound to `user_vault_secrets|secret_envelope|<userId>/<name>`. */
  envelope: string;
  prefix: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Persistence port of the vault: operators' secrets by name, users' keys by (user, name). */
export interface VaultStore {
  /** Every operator secret, by name. */
  list(): Promise<VaultSecretRow[]>;
  find(name: string): Promise<VaultSecretRow | null>;
  /** Inserts or replaces (keeping `createdAt`); true when the name was new. */
  put(row: VaultSecretRow): Promise<boolean>;
  /** True when a row was deleted. */
  remove(name: string): Promise<boolean>;
  /** A user's keys, by name. */
  listForUser(userId: string): Promise<UserVaultSecretRow[]>;
  findForUser(userId: string, name: string): Promise<UserVaultSecretRow | null>;
  /** Inserts or replaces (keeping `id` and `createdAt`); true when the name was new for this user. */
  putForUser(row: UserVaultSecretRow): Promise<boolean>;
  removeForUser(userId: string, name: string): Promise<boolean>;
}
