import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pino from "pino";
import { createGatehouse } from "../../compose.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { loadCliConfig } from "../configured-database.js";

export const VAULT_USAGE = `Usage: gatehouse vault <command>

  list                                  the operator's secrets: name, prefix, last change
  set <name> [--value-file <f>]         store or replace a secret (the value from the file, else standard input)
  delete <name>                         delete a secret

The secrets an upstream receives through inject_headers (docs/secrets.md).
A value is never taken from the command line (it would be in the shell's
history and the process list) and never printed: only its first 4
characters, for values of 16 or more. One trailing line break is removed.
Every change is audited (secret_changed, via cli).`;

const CLI_ORIGIN = { ip: "local", userAgent: "gatehouse-cli" };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `gatehouse vault list|set|delete`: the vault's operator secrets over the configured database. */
export const vaultCommand: Command = async (args: string[], io: CliIo) => {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: { "value-file": { type: "string" }, help: { type: "boolean", short: "h", default: false } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${VAULT_USAGE}`, EXIT.usage);
  }
  const { values, positionals } = parsed;
  const [sub, name, extra] = positionals;
  if (values.help || sub === undefined) {
    io.out(`${VAULT_USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (extra !== undefined) throw new CliError(`too many arguments (a value is read from --value-file or standard input, never the command line)\n\n${VAULT_USAGE}`, EXIT.usage);
  if (sub !== "list" && !name) throw new CliError(`${sub} needs a secret name\n\n${VAULT_USAGE}`, EXIT.usage);
  const config = loadCliConfig(io.env);
  const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
  try {
    switch (sub) {
      case "list": {
        const secrets = await gh.vault.list();
        for (const s of secrets) io.out(`${printable(s.name).padEnd(32)} ${(s.prefix === null ? "-" : `${printable(s.prefix)}…`).padEnd(8)} ${new Date(s.updatedAt).toISOString()}\n`);
        io.out(`${secrets.length} secret(s)\n`);
        return EXIT.ok;
      }
      case "set": {
        const raw = values["value-file"] === undefined || values["value-file"] === "-" ? await readStdin() : readFileSync(values["value-file"], "utf8");
        const value = raw.replace(/\r?\n$/, "");
        const { secret, created } = await gh.vault.set(name!, value, { userId: null, origin: CLI_ORIGIN, via: "cli" });
        io.out(`${created ? "stored" : "replaced"} ${printable(secret.name)}${secret.prefix === null ? "" : ` (${printable(secret.prefix)}…)`}\n`);
        return EXIT.ok;
      }
      case "delete": {
        await gh.vault.remove(name!, { userId: null, origin: CLI_ORIGIN, via: "cli" });
        io.out(`deleted ${printable(name!)}\n`);
        return EXIT.ok;
      }
      default:
        throw new CliError(`unknown vault command "${printable(sub)}"\n\n${VAULT_USAGE}`, EXIT.usage);
    }
    // A GatehouseError reaches run-cli.ts, which prints its message, code and fields (never a value) and exits 1.
  } finally {
    await gh.close();
  }
};
