/** Persistence port for runtime settings: one JSON value per key. */
export interface SettingsStore {
  /** Every stored key with its JSON text. */
  all(): Promise<Record<string, string>>;
  /** Writes several keys in one transaction. */
  put(values: Record<string, string>, by: string, at: number): Promise<void>;
}
