import { RulesFileError } from "../../gateway/parse-rules-file.js";
import { readRulesFile } from "../../gateway/rules-file-reloader.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/** The access rules file (GATEHOUSE_CONFIG): each problem with its line number, as the start would refuse it. */
export function rulesFileCheck(ctx: DoctorContext): Finding[] {
  const path = ctx.config?.configFile ?? null;
  if (path === null) return [];
  try {
    const rules = readRulesFile(path, { clamdUrl: ctx.config?.uploads.clamdUrl ?? null });
    return [{ level: "ok", message: `the rules file ${path} is valid (${rules.rules.length} rules, ${rules.upstreams.length} upstreams)`, fix: "" }];
  } catch (err) {
    const problems = err instanceof RulesFileError ? err.problems : [err instanceof Error ? err.message : String(err)];
    return problems.map((problem) => ({ level: "error" as const, message: `GATEHOUSE_CONFIG ${path}: ${problem}`, fix: "fix the rules file; the server refuses to start with it (and keeps the old rules on SIGHUP)" }));
  }
}
