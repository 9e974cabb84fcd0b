import { describe, expect, it } from "vitest";
import { createOutageMonitor, type OutageTimers } from "../../src/core/outage/outage-monitor.js";
import { isDatabaseUnavailable } from "../../src/storage/sql/database-unavailable.js";

describe("isDatabaseUnavailable: an unreachable database, not a faulty query", () => {
  const coded = (code: string, message = "x") => Object.assign(new Error(message), { code });
  it.each([
    ["connection refused", coded("ECONNREFUSED")],
    ["connection reset", coded("ECONNRESET")],
    ["PostgreSQL shutting down (57P01)", coded("57P01")],
    ["PostgreSQL starting (57P03)", coded("57P03")],
    ["connection exception (08006)", coded("08006")],
    ["too many connections (53300)", coded("53300")],
    ["database dropped (3D000)", coded("3D000")],
    ["SQLite busy", coded("SQLITE_BUSY")],
    ["SQLite I/O error", coded("SQLITE_IOERR_READ")],
    ["pg connection dropped", new Error("Connection terminated unexpectedly")],
    ["pool ended", new Error("Cannot use a pool after calling end on the pool")],
    ["Kysely destroyed", new Error("driver has already been destroyed")],
    ["wrapped", new Error("query failed", { cause: coded("ECONNREFUSED") })],
    ["every address refused", new AggregateError([coded("ECONNREFUSED"), coded("ECONNREFUSED")])],
  ])("%s: outage", (_name, err) => expect(isDatabaseUnavailable(err)).toBe(true));
  it.each([
    ["missing table", coded("42P01", 'relation "sessions" does not exist')],
    ["SQLite missing table", coded("SQLITE_ERROR", "no such table: sessions")],
    ["unique violation", coded("23505")],
    ["a bug", new TypeError("x is undefined")],
    ["not an error", "boom"],
  ])("%s: not an outage", (_name, err) => expect(isDatabaseUnavailable(err)).toBe(false));
});

describe("outage monitor: one error line per outage, one info line on recovery", () => {
  function setup() {
    const lines: { level: string; message: string }[] = [];
    const log = {
      error: (_d: unknown, message: string) => lines.push({ level: "error", message }),
      info: (_d: unknown, message: string) => lines.push({ level: "info", message }),
      debug: (_d: unknown, message: string) => lines.push({ level: "debug", message }),
    };
    const pending: (() => void)[] = [];
    const timers: OutageTimers = { setTimeout: (fn) => pending.push(fn), clearTimeout: () => pending.splice(0) };
    let up = false;
    const monitor = createOutageMonitor({ what: "database", isOutage: (e) => e === "down", probe: async () => up, log, now: () => 0, timers });
    const tick = async () => {
      for (const fn of pending.splice(0)) fn();
      await new Promise((r) => setTimeout(r, 0));
    };
    return { lines, monitor, tick, recover: () => (up = true), pending };
  }

  it("absorbs outage errors only, logs the episode once, ends it when the probe succeeds", async () => {
    const { lines, monitor, tick, recover, pending } = setup();
    expect(monitor.absorb(new Error("bug"))).toBe(false);
    for (let i = 0; i < 100; i++) expect(monitor.absorb("down")).toBe(true);
    expect(monitor.down).toBe(true);
    expect(lines.filter((l) => l.level === "error")).toHaveLength(1);
    expect(lines.filter((l) => l.level === "info")).toHaveLength(0);
    await tick();
    expect(monitor.down).toBe(true);
    recover();
    await tick();
    expect(monitor.down).toBe(false);
    expect(lines.filter((l) => l.level === "info").map((l) => l.message)).toEqual(["database reachable again; requests are served"]);
    expect(pending).toHaveLength(0);
    monitor.absorb("down");
    expect(lines.filter((l) => l.level === "error")).toHaveLength(2);
    monitor.stop();
  });
});
