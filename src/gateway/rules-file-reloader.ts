import { readFileSync } from "node:fs";
import type { AccessGate } from "../core/gateway/access-decision.js";
import { DEFAULT_ACCESS_RULES, type AccessRules } from "../core/gateway/access-rules.js";
import { parseRulesFile, RulesFileError } from "./parse-rules-file.js";

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

/** Reads and validates a rules file; throws a {@link RulesFileError} (line-numbered) or an I/O error message. */
export function readRulesFile(path: string): AccessRules {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new RulesFileError([`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  return parseRulesFile(text);
}

/** Builds the reloader for `GATEHOUSE_CONFIG` (`path` null: no file, deny everything). */
export function createRulesFileReloader(options: { path: string | null; logger: ReloadLogger }): RulesFileReloader {
  const { path, logger } = options;
  const initial = path === null ? DEFAULT_ACCESS_RULES : readRulesFile(path);
  if (path !== null) logger.info({ file: path, rules: initial.rules.length, upstreams: initial.upstreams.length }, "access rules loaded");
  return {
    initial,
    reload(gate) {
      if (path === null) {
        logger.info({}, "no GATEHOUSE_CONFIG: nothing to reload");
        return false;
      }
      try {
        const rules = readRulesFile(path);
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
