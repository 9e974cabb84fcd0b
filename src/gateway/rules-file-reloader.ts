import { readFileSync } from "node:fs";
import type { AccessGate } from "../core/gateway/access-decision.js";
import { DEFAULT_ACCESS_RULES, type AccessRules } from "../core/gateway/access-rules.js";
import { parseRulesFile, RulesFileError } from "./parse-rules-file.js";
import { rulesConfigProblems, type RulesSettings } from "./rules-config-problems.js";

/** The little of a logger the reloader uses. */
export interface ReloadLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The rules file: read once at start (a bad file stops the start), re-read on demand (SIGHUP). */
export interface RulesFileReloader {
  /** The rules to start with: the file's, or deny-everything when no file is configured. */
  initial: AccessRules;
  /** Re-reads the file into the gate atomically; a bad file keeps the old rules, logs why, and returns false. */
  reload(gate: AccessGate): boolean;
}

/**
 * Reads and validates a rules file, and with `settings` what it needs of
 * them (rules-config-problems.ts); throws a {@link RulesFileError}
 * (line-numbered) or an I/O error message.
 */
export function readRulesFile(path: string, settings?: RulesSettings): AccessRules {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new RulesFileError([`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  const rules = parseRulesFile(text);
  const problems = settings === undefined ? [] : rulesConfigProblems(rules, settings);
  if (problems.length > 0) throw new RulesFileError(problems);
  return rules;
}

/** Builds the reloader for `GATEHOUSE_CONFIG` (`path` null: no file, deny everything). */
export function createRulesFileReloader(options: { path: string | null; logger: ReloadLogger; settings: RulesSettings }): RulesFileReloader {
  const { path, logger, settings } = options;
  const initial = path === null ? DEFAULT_ACCESS_RULES : readRulesFile(path, settings);
  if (path !== null) logger.info({ file: path, rules: initial.rules.length, upstreams: initial.upstreams.length }, "access rules loaded");
  return {
    initial,
    reload(gate) {
      if (path === null) {
        logger.info({}, "no GATEHOUSE_CONFIG: nothing to reload");
        return false;
      }
      try {
        const rules = readRulesFile(path, settings);
        gate.replaceRules(rules);
        logger.info({ file: path, rules: rules.rules.length, upstreams: rules.upstreams.length }, "access rules reloaded");
        return true;
      } catch (err) {
        const problems = err instanceof RulesFileError ? err.problems : ["unexpected error while reading the file"];
        logger.error({ file: path, problems }, "access rules NOT reloaded: the file is invalid; the previous rules stay in force");
        return false;
      }
    },
  };
}
