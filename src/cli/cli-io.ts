import { escapeUnsafeCharacters } from "../core/text/unsafe-characters.js";

/** Where a command writes and what it reads; the real process in production, captured in tests. */
export interface CliIo {
  /** Text for the user (results). */
  out: (text: string) => void;
  /** Diagnostics, warnings and errors. */
  err: (text: string) => void;
  /** Raw bytes to standard output (a backup written with `--out -`). */
  outBytes(bytes: Buffer): Promise<void>;
  env: NodeJS.ProcessEnv;
  /** True when standard output is a terminal. */
  stdoutIsTty: boolean;
}

/** Exit codes of every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** A failure with a message for the user and an exit code; never carries a secret. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** A command: takes its own arguments, returns the exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

/**
 * Untrusted text (from the database, a backup, a file, the command line) made
 * safe to print: control, format, bidi and zero-width characters appear as
 * visible `\u{…}` escapes, so `ESC[2K` or U+200B can neither erase a line nor
 * hide a name. Every command prints such data only through this.
 */
export function printable(value: string): string {
  return escapeUnsafeCharacters(value);
}

/** {@link printable} line by line: keeps the line breaks of a multi-line message, escapes the rest. */
export function printableLines(value: string): string {
  return value.split("\n").map(printable).join("\n");
}
