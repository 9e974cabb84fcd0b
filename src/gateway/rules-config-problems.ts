import type { AccessRules } from "../core/gateway/access-rules.js";

/** The settings a rules file may depend on. */
export interface RulesSettings {
  /** `CLAMD_URL`, or null when unset. */
  clamdUrl: string | null;
}

/**
 * What a valid rules file asks of the settings and does not get: a rule
 * with `uploads.scan: clamav` while `CLAMD_URL` is unset would never scan
 * (with `on_scan_error: allow`, every file would pass unscanned), so it is a
 * problem like any other of the file, refused at start and on reload.
 */
export function rulesConfigProblems(rules: AccessRules, settings: RulesSettings): string[] {
  if (settings.clamdUrl !== null) return [];
  return rules.rules
    .filter((rule) => rule.uploads?.scan === "clamav")
    .map((rule) => `${rule.origin}: \`uploads.scan: clamav\` needs CLAMD_URL (the ClamAV daemon to stream files to); set it, or remove the scan`);
}
