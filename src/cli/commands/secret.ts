import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { secretKeyProblem } from "../../config/secret-key.js";
import { CliError, EXIT, type CliIo, type Command } from "../cli-io.js";

export const SECRET_USAGE = `Usage: gatehouse secret generate [--format hex|base64url]

Prints a fresh SECRET_KEY: 32 random bytes (256 bits) from the operating
system's CSPRNG, as 64 hex characters (default) or 43 base64url characters.
Put it in .env (chmod 600) or a file named by SECRET_KEY_FILE.`;

const FORMATS = ["hex", "base64url"] as const;

/** A new secret key in `format` that passes the SECRET_KEY rules. */
export function generateSecretKey(format: (typeof FORMATS)[number] = "hex"): string {
  for (;;) {
    const key = randomBytes(32).toString(format);
    // 32 random bytes virtually always pass; the check guards the low-entropy rule anyway.
    if (secretKeyProblem(key) === null) return key;
  }
}

/** `gatehouse secret generate`. */
export const secretCommand: Command = async (args: string[], io: CliIo) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { format: { type: "string", default: "hex" }, help: { type: "boolean", short: "h", default: false } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${SECRET_USAGE}`, EXIT.usage);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${SECRET_USAGE}\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 1 || positionals[0] !== "generate") throw new CliError(SECRET_USAGE, EXIT.usage);
  const format = values.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) throw new CliError(`--format must be hex or base64url\n\n${SECRET_USAGE}`, EXIT.usage);
  io.out(`${generateSecretKey(format)}\n`);
  return EXIT.ok;
};
