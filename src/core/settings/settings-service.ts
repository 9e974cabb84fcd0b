import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { SessionLifetimes } from "../sessions/session.js";
import type { RegistrationMode } from "../registration/registration-mode.js";
import { settingsFromLifetimes, type Settings } from "./settings.js";
import { settingsFromStored, settingsProblems } from "./settings-validation.js";
import type { SettingsStore } from "./settings-store.js";

/** Reads and changes the runtime settings. */
export interface SettingsService {
  /** The settings in force (re-read from the store at most every few seconds, so all instances converge). */
  current(): Promise<Settings>;
  /** Validates and applies a partial change at once; audited as `settings_changed` with the changed keys. */
  update(actorId: string, change: Partial<Settings>, origin: SessionOrigin): Promise<Settings>;
  /**
   * The session lifetimes in force, owned by this service: the session,
   * account and admin services read this object, and a settings change
   * updates it, so it applies to the very next request without a restart.
   * Read-only to everyone else; the configuration is never written.
   */
  readonly lifetimes: Readonly<SessionLifetimes>;
}

/**
 * Creates the {@link SettingsService}. `lifetimes` are the environment's
 * defaults (never written); the lifetimes in force are a copy of them,
 * exposed as {@link SettingsService.lifetimes}.
 */
export function createSettingsService(deps: {
  store: SettingsStore;
  audit: AuditLog;
  clock: Clock;
  lifetimes: Readonly<SessionLifetimes>;
  /** The registration mode of the environment (`REGISTRATION`), until a superadmin changes it. */
  registration?: RegistrationMode;
  refreshMs?: number;
  /** Told once per distinct set of stored settings that are invalid and fell back to their defaults. */
  onInvalidStored?: (keys: string[]) => void;
}): SettingsService {
  const { store, audit, clock } = deps;
  const defaults = settingsFromLifetimes(deps.lifetimes, deps.registration ?? "closed");
  const lifetimes: SessionLifetimes = { ...deps.lifetimes };
  const refreshMs = deps.refreshMs ?? 5_000;
  let cached: { settings: Settings; at: number } | null = null;
  let reported = "";

  function apply(settings: Settings): Settings {
    lifetimes.idleMs = settings.sessionIdleMinutes * 60_000;
    lifetimes.absoluteMs = settings.sessionAbsoluteMinutes * 60_000;
    lifetimes.rememberMs = settings.sessionRememberDays * 86_400_000;
    lifetimes.adminIdleMs = Math.min(lifetimes.idleMs, 15 * 60_000);
    cached = { settings, at: clock.now() };
    return settings;
  }

  async function load(): Promise<Settings> {
    // A stored value that is not valid (written by SQL, or by an older restore) falls back to its default.
    const { settings, fellBack } = settingsFromStored(await store.all(), defaults);
    const signature = fellBack.sort().join(",");
    if (signature !== reported) {
      reported = signature;
      if (signature !== "") deps.onInvalidStored?.(fellBack);
    }
    return apply(settings);
  }

  function validate(next: Settings): void {
    const bad = settingsProblems(next as unknown as Record<string, unknown>);
    if (bad.length > 0) throw new GatehouseError("invalid_request", { fields: bad });
  }

  return {
    lifetimes,
    async current() {
      if (cached && clock.now() - cached.at < refreshMs) return cached.settings;
      return load();
    },
    async update(actorId, change, origin) {
      const before = await load();
      const next: Settings = { ...before, ...change };
      validate(next);
      const changed = (Object.keys(change) as (keyof Settings)[]).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(next[k]));
      if (changed.length === 0) return before;
      await store.put(Object.fromEntries(changed.map((k) => [k, JSON.stringify(next[k])])), actorId, clock.now());
      await audit.record({ type: "settings_changed", actorId, details: { keys: changed.join(",") }, ...origin });
      return apply(next);
    },
  };
}
