import { freePort } from "../processes.js";
import type { Clock } from "../../../src/core/clock.js";
import { startHarness, type Harness, type HarnessOptions } from "../harness.js";

/** A Gatehouse listening on a loopback port, for a real browser. */
export interface LiveGatehouse {
  /** The test harness behind it (`h.account`, `h.clock`, `h.gh`, …). */
  h: Harness;
  /** `http://127.0.0.1:<port>` (or `http://localhost:<port>`), which is also its PUBLIC_URL. */
  origin: string;
  /** An absolute URL on this Gatehouse. */
  url(path: string): string;
  close(): Promise<void>;
}

/**
 * Starts Gatehouse through the real composition root (the harness) on
 * SQLite — the browser suites test pages, not storage, so one backend is
 * enough — and makes it listen on 127.0.0.1 with PUBLIC_URL set to that
 * origin, so CSRF origin checks see what the browser sends. `env` goes to
 * the config (`OAUTH_*` variables included); `options.providers` configures
 * identity providers directly (their callback is `<origin>/api/auth/oauth/<id>/callback`,
 * known once this resolves — register it at the provider then).
 */
export async function startLiveGatehouse(env: Record<string, string> = {}, clock?: Clock, options: HarnessOptions & { hostname?: "127.0.0.1" | "localhost" } = {}): Promise<LiveGatehouse> {
  // WebAuthn refuses an IP address as RP ID: the passkey suite runs on http://localhost (a secure context too).
  const { hostname = "127.0.0.1", ...harnessOptions } = options;
  // The port must be known before the config is built (PUBLIC_URL); another
  // process may take it in between, so a taken port means another try.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const origin = `http://${hostname}:${port}`;
    const h = await startHarness("sqlite", { PUBLIC_URL: origin, ...env }, clock, harnessOptions);
    try {
      await h.gh.app.listen({ port, host: hostname });
    } catch (err) {
      await h.close();
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 5) continue;
      throw err;
    }
    return { h, origin, url: (path) => new URL(path, origin).href, close: () => h.close() };
  }
}
