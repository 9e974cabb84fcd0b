import { runCli } from "./run-cli.js";

/** Entry point of the `gatehouse` command (bin/gatehouse.js runs it compiled from dist/, or through tsx in a checkout being edited). */
const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  outBytes: (bytes) => new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()))),
  env: process.env,
  stdoutIsTty: process.stdout.isTTY === true,
});
process.exitCode = code;
