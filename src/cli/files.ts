import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CliError } from "./cli-io.js";

/**
 * Reads a passphrase from a file: one trailing newline is dropped, nothing
 * else is changed. The passphrase itself never appears in a message.
 */
export function readPassphraseFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new CliError(`cannot read the passphrase file ${path}`);
  }
  const passphrase = text.replace(/\r?\n$/, "");
  if (passphrase === "") throw new CliError(`the passphrase file ${path} is empty`);
  return passphrase;
}

/** Reads a whole file after checking its size against `maxBytes`. */
export function readLimited(path: string, maxBytes: number): Buffer {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new CliError(`${path} is not a file`);
    size = stat.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read ${path}`);
  }
  if (size > maxBytes) throw new CliError(`${path} is larger than ${maxBytes} bytes; refusing to read it`);
  return readFileSync(path);
}

/**
 * Writes `bytes` to `path` with mode 0600: first into a temporary file in the
 * same directory, flushed to disk, then renamed, so a crash never leaves a
 * half-written backup under the final name. Refuses to replace an existing
 * file unless `overwrite`.
 */
export function writePrivateFile(path: string, bytes: Buffer, overwrite: boolean): void {
  if (!overwrite && existsSync(path)) throw new CliError(`${path} already exists (use --force to replace it)`);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, "wx", 0o600);
  } catch {
    throw new CliError(`cannot write to ${dirname(path)}`);
  }
  try {
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw new CliError(`writing ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  closeSync(fd);
  renameSync(temp, path);
}
