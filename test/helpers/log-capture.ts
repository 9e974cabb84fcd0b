import { Writable } from "node:stream";
import pino from "pino";
import { loggerOptions } from "../../src/logging/logger-options.js";

/** A real pino logger (Gatehouse's options) whose JSON lines are kept in memory. */
export function captureLogger(level = "debug") {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString("utf8").split("\n").filter((l: string) => l.length > 0));
      cb();
    },
  });
  return { logger: pino(loggerOptions(level), stream), lines, text: () => lines.join("\n") };
}
