import { diagnose, type Finding } from "../doctor-checks.js";
import { databaseCheck } from "./database-check.js";
import { doctorContext, type DoctorContext } from "./doctor-context.js";
import { identityProvidersCheck } from "./identity-providers-check.js";
import { proxyHeadersCheck } from "./proxy-check.js";
import { redisCheck } from "./redis-check.js";
import { registrationCheck } from "./registration-check.js";
import { rulesFileCheck } from "./rules-file-check.js";
import { smtpCheck } from "./smtp-check.js";
import { unknownVariablesCheck } from "./unknown-variables-check.js";

/** One check of `gatehouse doctor`. Its findings never contain a secret value. */
export interface DoctorCheck {
  name: string;
  run(ctx: DoctorContext): Finding[] | Promise<Finding[]>;
}

/**
 * Every check `gatehouse doctor` runs, in order. A new check is one more
 * entry here.
 */
export function doctorChecks(): DoctorCheck[] {
  return [
    // What the start would refuse (every configuration problem), and risky settings.
    { name: "settings", run: (ctx) => diagnose(ctx.env) },
    { name: "unknown variables", run: unknownVariablesCheck },
    { name: "proxy headers", run: proxyHeadersCheck },
    { name: "registration", run: registrationCheck },
    { name: "rules file", run: rulesFileCheck },
    { name: "identity providers", run: identityProvidersCheck },
    { name: "database", run: databaseCheck },
    { name: "redis", run: redisCheck },
    { name: "smtp", run: smtpCheck },
  ];
}

/** Runs every check against the environment (and `.env` in `cwd`); a check that crashes becomes an error finding. */
export async function runDoctor(env: NodeJS.ProcessEnv, cwd: string, checks: DoctorCheck[] = doctorChecks()): Promise<Finding[]> {
  const { ctx, findings } = doctorContext(env, cwd);
  for (const check of checks) {
    try {
      findings.push(...(await check.run(ctx)));
    } catch (err) {
      findings.push({ level: "error", message: `the ${check.name} check failed: ${ctx.scrub(err instanceof Error ? err.message : String(err))}`, fix: "report this; the other checks ran" });
    }
  }
  return findings;
}
