import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CLOSE_GRACE_MS, createGracefulShutdown, REPEAT_WINDOW_MS } from "../../src/runtime/graceful-shutdown.js";

function setup(close: () => Promise<void>, timeoutMs = 10_000) {
  const exits: number[] = [];
  const server = { closeIdleConnections: vi.fn(), closeAllConnections: vi.fn() };
  const lines: string[] = [];
  const log = (_: object, msg: string) => lines.push(msg);
  const shutdown = createGracefulShutdown({ close, server, logger: { info: log, warn: log, error: log }, timeoutMs, exit: (c) => exits.push(c), now: () => Date.now() });
  return { shutdown, exits, server, lines };
}

describe("graceful shutdown sequence", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("closes once, ends idle keep-alive connections while draining, exits 0 when the close is done", async () => {
    let finish!: () => void;
    const close = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const s = setup(close);
    s.shutdown("SIGTERM");
    await vi.advanceTimersByTimeAsync(200);
    expect(s.server.closeIdleConnections).toHaveBeenCalled();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(close).toHaveBeenCalledTimes(1);
    expect(s.exits).toEqual([0]);
    expect(s.server.closeAllConnections).not.toHaveBeenCalled();
    const calls = s.server.closeIdleConnections.mock.calls.length;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(s.server.closeIdleConnections.mock.calls.length).toBe(calls);
    expect(s.exits).toEqual([0]);
  });

  it("cuts the connections still open at the deadline, then exits 1 if the rest of the close hangs", async () => {
    const s = setup(() => new Promise<void>(() => undefined), 2_000);
    s.shutdown("SIGTERM");
    await vi.advanceTimersByTimeAsync(1_999);
    expect(s.server.closeAllConnections).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(s.server.closeAllConnections).toHaveBeenCalledTimes(1);
    expect(s.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(CLOSE_GRACE_MS);
    expect(s.exits).toEqual([1]);
  });

  it("a repeat within the window is the same signal; a later one exits at once with 128 + its number", async () => {
    const s = setup(() => new Promise<void>(() => undefined), 60_000);
    s.shutdown("SIGINT");
    s.shutdown("SIGINT");
    await vi.advanceTimersByTimeAsync(REPEAT_WINDOW_MS - 1);
    s.shutdown("SIGINT");
    expect(s.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    s.shutdown("SIGINT");
    expect(s.exits).toEqual([130]);
    expect(s.lines).toContain("second signal: exiting at once");
  });

  it("a failing close exits 1", async () => {
    const s = setup(() => Promise.reject(new Error("db")));
    s.shutdown("SIGTERM");
    await vi.advanceTimersByTimeAsync(0);
    expect(s.exits).toEqual([1]);
    expect(s.lines).toContain("shutdown failed");
  });
});
