import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { LazyChildLogger } from "../../src/logging/lazy-child-logger.js";
import { loggerOptions } from "../../src/logging/logger-options.js";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ ...loggerOptions("info") }, stream), lines };
}

describe("LazyChildLogger: a request logger made only when something logs", () => {
  it("creates no child until the first line, then logs exactly like an eager child (bindings and redaction kept)", () => {
    const { logger, lines } = capture();
    const spy = vi.spyOn(logger, "child");
    const lazy = new LazyChildLogger(logger, { reqId: "r-1" }, {});
    expect(lazy.level).toBe("info");
    expect(spy).not.toHaveBeenCalled();
    lazy.error({ password: "hunter2-secret" }, "boom");
    lazy.info("second");
    expect(spy).toHaveBeenCalledTimes(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ reqId: "r-1", level: 50, msg: "boom", password: "[redacted]" });
    expect(lines[1]).toMatchObject({ reqId: "r-1", msg: "second" });
  });

  it("honours a route's own level and nests children", () => {
    const { logger, lines } = capture();
    const lazy = new LazyChildLogger(logger, { reqId: "r-2" }, { level: "warn" });
    expect(lazy.level).toBe("warn");
    lazy.info("dropped");
    lazy.child({ part: "x" }).warn("kept");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: "r-2", part: "x", msg: "kept" });
  });
});
