import { didYouMean, unknownVariables } from "../../config/unknown-variables.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/** Variables (environment or .env) that look like Gatehouse settings but are not, with the likely intended name. */
export function unknownVariablesCheck(ctx: DoctorContext): Finding[] {
  return unknownVariables(ctx.env).map((u) => ({
    level: "warn" as const,
    message: `${u.name}${ctx.loaded.fromFile.has(u.name) ? " (in .env)" : ""} is not a Gatehouse setting and is ignored${didYouMean(u)}`,
    fix: u.suggestion === null ? "remove it, or see docs/configuration.md for the setting you meant" : `rename it to ${u.suggestion}`,
  }));
}
