import { measureLoad, type LoadSpec } from "../lib/load.js";
import { withServer } from "../lib/servers.js";
import { hashingSlots } from "./login.js";
import { BENCH_ORIGIN, type Scenario } from "./scenario.js";

/**
 * Sign-in with a password and an authenticator app vs the password alone, in
 * one server, paired rounds (the password round just before each TOTP round).
 * A TOTP sign-in is two requests on one connection: `POST /api/auth/login`
 * (answering `mfa_required` and the pending cookie), then `POST
 * /api/auth/mfa/verify` with the code of the user's next unused 30-s step
 * (computed in the load process). Its row counts completed sign-ins per
 * second (two answers each). Enough users (800) that no user needs a step
 * the server would refuse as a replay.
 */
export const loginTotp: Scenario = {
  id: "login-totp",
  targets: [{ label: "sign-in with TOTP vs password alone (sign-ins/s)", row: "login-totp", of: "login-password", metric: "rps", op: ">=", value: 0.8 }],
  run: async (ctx) => {
    const connections = hashingSlots() * 4;
    const env = { BENCH_LOGIN_USERS: ctx.dry ? "2" : "20", BENCH_TOTP_USERS: ctx.dry ? "2" : "800", RATE_LIMIT_LOGIN: "999999/1s" };
    return withServer("gatehouse", env, async (s) => {
      const { loginUsers = [], totpUsers = [], password } = s.ready;
      const common = {
        pid: s.child.pid!,
        url: s.url("/api/auth/login"),
        method: "POST" as const,
        headers: { "content-type": "application/json", origin: BENCH_ORIGIN },
        expect: 200,
        connections,
      };
      const passwordOnly: LoadSpec = { ...common, bodies: loginUsers.map((username) => JSON.stringify({ username, password })) };
      const withTotp: LoadSpec = {
        ...common,
        bodies: totpUsers.map((u) => JSON.stringify({ username: u.username, password })),
        totp: { verifyUrl: s.url("/api/auth/mfa/verify"), secrets: totpUsers.map((u) => u.secret) },
      };
      const base = await measureLoad(passwordOnly, ctx, "password-only login");
      const m = await measureLoad(withTotp, ctx, "login with TOTP", false, passwordOnly);
      const half = (x: number) => Math.round(x / 2);
      return [
        { id: "login-password", title: `Gatehouse POST /api/auth/login, password only, ${connections} conns`, ...base, rssMb: s.rssMb() },
        {
          id: "login-totp",
          title: `Gatehouse sign-in with TOTP (login + mfa/verify), ${connections} conns`,
          ...m,
          rps: half(m.rps),
          runs: m.runs.map(half),
          ...(m.pairedRatio !== undefined ? { pairedRatio: m.pairedRatio / 2 } : {}),
          ...(m.pairedCpu ? { pairedCpu: m.pairedCpu / 2 } : {}),
          cpuUs: m.cpuUs === null ? null : m.cpuUs * 2,
          rssMb: s.rssMb(),
          baseline: "login-password",
          note: "sign-ins per second (each is two requests); p50/p99 are per request; CPU µs per sign-in",
        },
      ];
    });
  },
};
