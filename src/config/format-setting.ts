import { parseCidrList, parseDuration, parseWindowLimit } from "./parse-values.js";
import type { Setting } from "./schema.js";

const UNITS: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** Milliseconds as the largest whole unit the duration syntax accepts (`30m`, `12h`, `90s`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.ceil(ms / 1000)}s`;
}

/**
 * A parsed value written back in the variable's own syntax, so that
 * `setting.parse(formatValue(setting, v))` gives `v` again; null is "" (unset).
 */
export function formatValue(setting: Setting<unknown>, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (setting.parse === parseDuration) return formatDuration(value as number);
  if (setting.parse === parseWindowLimit) {
    const { limit, windowMs } = value as { limit: number; windowMs: number };
    return `${limit}/${formatDuration(windowMs)}`;
  }
  if (setting.parse === parseCidrList) return (value as string[]).join(",");
  // The remaining settings hold a string, number or boolean.
  const primitive = value as string | number | boolean;
  return String(primitive);
}

/** The default of a setting as it would be written in `.env` ("" when it has none). */
export const formatDefault = (setting: Setting<unknown>): string => formatValue(setting, setting.default);
