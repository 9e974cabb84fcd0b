import type { ProviderClient, ProviderSettings } from "./identity-provider.js";

/** A configured provider and the client that speaks its protocol. */
export interface ConfiguredProvider {
  settings: ProviderSettings;
  client: ProviderClient;
}

/** The configured identity providers (read once at start). */
export interface ProviderRegistry {
  /** The enabled providers, in configured order (the sign-in buttons). */
  enabled(): readonly ProviderSettings[];
  /** The enabled provider with this id, or null (a disabled or unknown one is not there at all). */
  get(id: string): ConfiguredProvider | null;
  /** The name of a provider id, enabled or not (an identity linked through a since-disabled provider is still listed); the id when unknown. */
  nameOf(id: string): string;
}

/** Creates the {@link ProviderRegistry} over configured providers, making each one's client with `clientFor`. */
export function createProviderRegistry(providers: readonly ProviderSettings[], clientFor: (settings: ProviderSettings) => ProviderClient): ProviderRegistry {
  const byId = new Map<string, ConfiguredProvider>();
  for (const settings of providers) if (settings.enabled) byId.set(settings.id, { settings, client: clientFor(settings) });
  const enabled = [...byId.values()].map((p) => p.settings);
  return {
    enabled: () => enabled,
    get: (id) => byId.get(id) ?? null,
    nameOf: (id) => providers.find((p) => p.id === id)?.name ?? id,
  };
}
