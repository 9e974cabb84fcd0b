import { createHook } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createManualClock } from "../../src/core/clock.js";
import { backendNames, createBackend, type Backend } from "../helpers/backends.js";
import { captureLogger } from "../helpers/log-capture.js";
import { RELAXED_LIMITS } from "../helpers/harness.js";

/**
 * Every timer created while the watch is on and not yet fired or cleared,
 * unref'd ones included (`process.getActiveResourcesInfo()` lists only ref'd
 * timers), created with Gatehouse code on the stack.
 */
function watchTimers() {
  const live = new Map<number, { repeat: boolean }>();
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type !== "Timeout") return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 50;
      const stack = new Error().stack ?? "";
      Error.stackTraceLimit = limit;
      // Gatehouse's timers (its code is on the stack); not the runner's, nor Node's own HTTP date cache.
      if (!stack.includes(SRC)) return;
      live.set(id, { repeat: (resource as { _repeat?: unknown })._repeat != null });
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    intervals: () => [...live.values()].filter((t) => t.repeat).length,
    /** Live timers, after the destroy callbacks of cleared ones have run. */
    async live() {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      return live.size;
    },
    stop: () => hook.disable(),
  };
}

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));
const refTimeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

for (const backendName of backendNames()) {
  describe(`timers live with the app (${backendName})`, () => {
    let backend: Backend | null = null;
    let gh: Gatehouse | null = null;
    afterEach(async () => {
      await gh?.close().catch(() => undefined);
      await backend?.cleanup();
      gh = null;
      backend = null;
    });

    async function build(): Promise<Gatehouse> {
      backend = await createBackend(backendName);
      const config = loadConfig({ NODE_ENV: "test", SECRET_KEY: randomBytes(32).toString("hex"), LOG_LEVEL: "debug", ...RELAXED_LIMITS, ...backend.env });
      gh = await createGatehouse({ config, logger: captureLogger().logger, clock: createManualClock(Date.now()), ...(backend.schema ? { schema: backend.schema } : {}) });
      return gh;
    }

    it("a built but never started app runs no periodic timer, and closing it leaves no timer", async () => {
      const before = refTimeouts();
      const timers = watchTimers();
      try {
        const app = await build();
        expect(timers.intervals()).toBe(0);
        await app.close();
        gh = null;
        expect(await timers.live()).toBe(0);
        expect(refTimeouts()).toBeLessThanOrEqual(before);
      } finally {
        timers.stop();
      }
    });

    it("starting runs the session purge, audit pruning and outbox polling; close stops every one of them", async () => {
      const before = refTimeouts();
      const timers = watchTimers();
      try {
        const app = await build();
        const res = await app.app.inject({ method: "GET", url: "/healthz" });
        expect(res.statusCode).toBeLessThan(500);
        app.start();
        // The outbox worker (from the app's ready), the session purge and the audit pruning.
        expect(timers.intervals()).toBe(3);
        await app.close();
        gh = null;
        expect(await timers.live()).toBe(0);
        expect(refTimeouts()).toBeLessThanOrEqual(before);
      } finally {
        timers.stop();
      }
    });
  });
}
