import { CliError, EXIT, type CliIo, type Command } from "../cli-io.js";

/** `gatehouse serve`: starts the server exactly like `npm start` (src/main.ts); configuration comes from the environment. */
export const serveCommand: Command = async (args: string[], io: CliIo) => {
  if (args.includes("--help") || args.includes("-h")) {
    io.out("Usage: gatehouse serve\n\nStarts Gatehouse (same as npm start). Configure it with environment variables; see docs/configuration.md.\n");
    return EXIT.ok;
  }
  if (args.length > 0) throw new CliError("serve takes no arguments; configure it with environment variables", EXIT.usage);
  await import("../../main.js");
  return EXIT.ok;
};
