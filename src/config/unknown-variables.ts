import { ENV_FILE_VARIABLE } from "./env-file.js";
import { allSettings } from "./schema.js";

/** A variable that looks like a Gatehouse setting but is not one. */
export interface UnknownVariable {
  name: string;
  /** The setting probably meant, or null. */
  suggestion: string | null;
}

/** Read by Gatehouse outside the schema (bootstrap, or checked by name). */
const OTHER_KNOWN = [ENV_FILE_VARIABLE, "NODE_TLS_REJECT_UNAUTHORIZED", "UV_THREADPOOL_SIZE", "NODE_EXTRA_CA_CERTS"];

/** Common variables of shells, Node, npm, CI systems and containers: never reported. */
const IGNORED = new Set([
  "PATH", "HOME", "USER", "USERNAME", "LOGNAME", "SHELL", "PWD", "OLDPWD", "SHLVL", "TERM", "LANG", "LANGUAGE", "TZ", "HOSTNAME",
  "TMPDIR", "TMP", "TEMP", "EDITOR", "PAGER", "MAIL", "CI", "DEBUG", "COLORTERM", "FORCE_COLOR", "NO_COLOR", "INIT_CWD", "_",
]);
const IGNORED_PREFIXES = ["npm_", "NODE_", "LC_", "XDG_", "GITHUB_", "RUNNER_", "GITLAB_", "KUBERNETES_", "DOCKER_", "SSH_", "GATEHOUSE_TEST_", "VITEST", "GATEHOUSE_PG_MARKER"];

/** Damerau–Levenshtein distance (adjacent transpositions count as one edit). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** How many edits still count as a typo of a name of this length. */
const tolerance = (length: number): number => (length <= 6 ? 1 : length <= 12 ? 2 : 3);

/** The known names: every schema setting, the `*_FILE` forms, and the few read outside the schema. */
export function knownVariableNames(): Set<string> {
  const names = new Set(OTHER_KNOWN);
  for (const s of allSettings()) {
    names.add(s.env);
    if (s.fromFile) names.add(`${s.env}_FILE`);
  }
  return names;
}

/** Prefixes shared by two or more settings (`RATE_LIMIT_`, `SESSION_`, `GATEHOUSE_`…): a new name under one is suspect. */
function familyPrefixes(): string[] {
  const counts = new Map<string, number>();
  for (const { env: name } of allSettings()) {
    const parts = name.split("_");
    for (let n = 1; n < parts.length; n++) {
      const prefix = `${parts.slice(0, n).join("_")}_`;
      counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
    }
  }
  return [...counts].filter(([, count]) => count >= 2).map(([prefix]) => prefix);
}

/** Edits from `name` to `candidate`, or to a start of it plus one (`RATE_LIMIT_TOKENS` is near `RATE_LIMIT_TOKEN_CREATE`). */
const nearness = (name: string, candidate: string): number =>
  Math.min(editDistance(name, candidate), candidate.length > name.length ? editDistance(name, candidate.slice(0, name.length)) + 1 : Infinity);

function closest(name: string, known: Set<string>, measure = editDistance): { name: string; distance: number } | null {
  let best: { name: string; distance: number } | null = null;
  for (const candidate of known) {
    const distance = measure(name, candidate);
    if (best === null || distance < best.distance) best = { name: candidate, distance };
  }
  return best;
}

/**
 * Variables (from the environment or `.env`) that look like Gatehouse
 * settings but are not: a near miss of a setting's name
 * (`SESION_IDLE_TIMEOUT`), a `GATEHOUSE_` prefix on a setting that has none
 * (`GATEHOUSE_UPSTREAM_URL`), or a new name in a settings family
 * (`RATE_LIMIT_TOKENS`). Everything is computed from the schema, so new
 * settings are covered; common shell, Node, npm and CI variables are ignored.
 */
export function unknownVariables(env: NodeJS.ProcessEnv): UnknownVariable[] {
  const known = knownVariableNames();
  const families = familyPrefixes();
  const found: UnknownVariable[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || IGNORED.has(name) || IGNORED_PREFIXES.some((p) => name.startsWith(p))) continue;
    const upper = name.toUpperCase();
    if (known.has(upper)) {
      found.push({ name, suggestion: upper });
      continue;
    }
    const stripped = upper.startsWith("GATEHOUSE_") ? upper.slice("GATEHOUSE_".length) : null;
    if (stripped !== null && known.has(stripped)) {
      found.push({ name, suggestion: stripped });
      continue;
    }
    const near = closest(upper, known);
    const typo = near !== null && near.distance <= tolerance(near.name.length);
    const inFamily = families.some((p) => upper.startsWith(p));
    if (typo || inFamily) {
      const ranked = closest(upper, known, nearness);
      const strippedNear = stripped === null ? null : closest(stripped, known, nearness);
      const suggestion = strippedNear !== null && strippedNear.distance < (ranked?.distance ?? Infinity) ? strippedNear : ranked;
      found.push({ name, suggestion: suggestion !== null && suggestion.distance <= Math.max(3, tolerance(suggestion.name.length) + 2) ? suggestion.name : null });
    }
  }
  return found;
}

/** "did you mean X?" or "", for messages. */
export const didYouMean = (u: UnknownVariable): string => (u.suggestion === null ? "" : `; did you mean ${u.suggestion}?`);
