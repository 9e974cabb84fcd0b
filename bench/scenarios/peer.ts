import { measureLoad } from "../lib/load.js";
import { withServer } from "../lib/servers.js";
import type { Row } from "../lib/report.js";
import type { Scenario } from "./scenario.js";

/**
 * Better Auth (SQLite via better-sqlite3, email + password, its documented
 * Fastify integration) GET /api/auth/get-session with a signed-in cookie, its
 * cookie cache off and on — compared with Gatehouse's /api/auth/me of the same run.
 */
export const peer: Scenario = {
  id: "peer",
  needs: ["bare", "me-sqlite"],
  targets: [
    { label: "Gatehouse /me vs Better Auth get-session, cookie cache off", row: "me-sqlite", of: "ba-off", metric: "rps", op: ">=", value: 20 },
    { label: "Gatehouse /me vs Better Auth get-session, cookie cache on", row: "me-sqlite", of: "ba-on", metric: "rps", op: ">=", value: 20 },
  ],
  run: async (ctx) => {
    const rows: Row[] = [];
    for (const cache of ["off", "on"] as const) {
      rows.push(
        await withServer("better-auth", { BENCH_BA_COOKIE_CACHE: cache }, async (s) => {
          const m = await measureLoad({ pid: s.child.pid!, url: s.url("/api/auth/get-session"), cookies: [s.ready.cookie!], expect: 200 }, ctx, `Better Auth (cookie cache ${cache})`, false, ctx.pairBare);
          return { id: `ba-${cache}`, title: `Better Auth GET /api/auth/get-session (cookie cache ${cache})`, ...m, rssMb: s.rssMb(), baseline: "bare" };
        }),
      );
    }
    return rows;
  },
};
