import { parseArgs } from "node:util";
import { CliError, EXIT, printableLines, type CliIo, type Command } from "../cli-io.js";
import { runDoctor } from "../doctor/doctor-check-list.js";

export const DOCTOR_USAGE = `Usage: gatehouse doctor

Reads the configuration from the environment and .env exactly as the server
does and prints what the start would refuse, insecure or risky settings,
variables that look like settings but are not, and live checks: the database
(reachable, migrations), the rules file, SMTP (connect, TLS, login) and Redis.
Changes nothing. Exit status 1 when any finding is an error.`;

const LABEL = { error: "ERROR", warn: "WARN ", info: "INFO ", ok: "OK   " } as const;

function parseHelp(args: string[]): boolean {
  try {
    return parseArgs({ args, options: { help: { type: "boolean", short: "h", default: false } }, strict: true }).values.help;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${DOCTOR_USAGE}`, EXIT.usage);
  }
}

/** `gatehouse doctor`: prints findings; exit 1 if any is an error. */
export const doctorCommand: Command = async (args: string[], io: CliIo) => {
  if (parseHelp(args)) {
    io.out(`${DOCTOR_USAGE}\n`);
    return EXIT.ok;
  }
  const findings = await runDoctor(io.env, process.cwd());
  const order = { error: 0, warn: 1, info: 2, ok: 3 };
  findings.sort((a, b) => order[a.level] - order[b.level]);
  const errors = findings.filter((f) => f.level === "error").length;
  const warnings = findings.filter((f) => f.level === "warn").length;
  for (const f of findings) io.out(`${LABEL[f.level]}  ${printableLines(f.message)}\n${f.fix === "" ? "" : `       fix: ${printableLines(f.fix)}\n`}`);
  io.out(errors + warnings === 0 ? "No problems found.\n" : `\n${errors} error(s), ${warnings} warning(s).\n`);
  return errors > 0 ? EXIT.failure : EXIT.ok;
};
