import type { Clock } from "../clock.js";

/** Decides which gateway denials are worth an audit event, so a scanner cannot flood the audit log (LOG-01, sampled). */
export interface DenialSampler {
  /**
   * True for the first denial of `key` in each window (the caller records
   * it, with `suppressed` = how many of that key were skipped since).
   */
  sample(key: string): { record: boolean; suppressed: number };
}

/**
 * One audit event per key per window; at most `maxKeys` keys are tracked
 * (the oldest window is forgotten first), so memory stays bounded whatever
 * an attacker sends.
 */
export function createDenialSampler(options: { clock: Clock; windowMs?: number; maxKeys?: number }): DenialSampler {
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxKeys = options.maxKeys ?? 10_000;
  const seen = new Map<string, { until: number; suppressed: number }>();
  return {
    sample(key) {
      const now = options.clock.now();
      const entry = seen.get(key);
      if (entry && entry.until > now) {
        entry.suppressed++;
        return { record: false, suppressed: 0 };
      }
      const suppressed = entry?.suppressed ?? 0;
      seen.delete(key);
      if (seen.size >= maxKeys) {
        const oldest = seen.keys().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      seen.set(key, { until: now + windowMs, suppressed: 0 });
      return { record: true, suppressed };
    },
  };
}
