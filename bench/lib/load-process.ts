// The load generator, in a process of its own (pinned to the load core when
// the run pins): autocannon's programmatic API, driven by the runner through
// stdin, one JSON job per line, answering one `RESULT {...}` line per job on
// stdout (autocannon's result plus this process's own CPU use). Run by
// bench/lib/load.ts on plain `node`; nothing here is measured as a server.
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { generateSync } from "otplib";

/** One load, as the runner sends it (everything serializable: no functions). */
export interface LoadJob {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  /** Rotated one per request (round robin) when more than one. */
  cookies: string[];
  /** Request bodies, rotated one per request (round robin). */
  bodies: string[];
  connections: number;
  /** Seconds to run, or `amount` requests (a dry run's single request). */
  seconds: number;
  amount?: number;
  /**
   * A two-step sign-in per cycle: `url` (the login, with `bodies[i]` for
   * user i) answers with a pending cookie, then `verifyUrl` gets a TOTP code
   * from `secrets[i]` (base32). Each user gets the codes of the current and
   * the next 30-s step once each (the server refuses a replayed step), so the
   * run needs enough users for its rate.
   */
  totp?: { verifyUrl: string; secrets: string[] };
}

/** What a job answers: autocannon's result and this process's CPU use while it ran. */
export interface LoadOutcome {
  result: autocannon.Result;
  /** CPU time (user + system) of the load process over the job's wall time, % of one core. */
  cpuPct: number;
}

/** The last step whose code was sent, per TOTP secret: kept across jobs (warm-up and rounds), as the server keeps it. */
const usedSteps = new Map<string, number>();
let nextUser = 0;

/** The requests of a two-step (password, then TOTP) sign-in; see {@link LoadJob.totp}. */
function twoStepRequests(job: LoadJob, totp: NonNullable<LoadJob["totp"]>): autocannon.Request[] {
  const count = totp.secrets.length;
  const verifyPath = new URL(totp.verifyUrl).pathname;
  const loginPath = new URL(job.url).pathname;
  type Ctx = { user?: number; step?: number; cookie?: string };
  return [
    {
      method: "POST",
      path: loginPath,
      setupRequest: (req: autocannon.Request, context: object) => {
        const ctx = context as Ctx;
        const now = Math.floor(Date.now() / 30_000);
        // The next user (round robin) with a step left in the window the server accepts (now, now + 1).
        for (let tries = 0; tries < count; tries++) {
          const u = nextUser++ % count;
          const secret = totp.secrets[u]!;
          const step = Math.max((usedSteps.get(secret) ?? -1) + 1, now);
          if (step > now + 1) continue;
          usedSteps.set(secret, step);
          ctx.user = u;
          ctx.step = step;
          return { ...req, body: job.bodies[u] };
        }
        throw new Error("every user has used the codes of this window: the run needs more users");
      },
      onResponse: (_status: number, _body: string, context: object, headers: Record<string, string | string[]>) => {
        const setCookie = headers["set-cookie"] ?? headers["Set-Cookie"];
        const pending = [setCookie ?? []].flat().find((c) => /gatehouse_pending=/.test(c));
        (context as Ctx).cookie = pending?.split(";")[0];
      },
    },
    {
      method: "POST",
      path: verifyPath,
      setupRequest: (req: autocannon.Request, context: object) => {
        const ctx = context as Ctx;
        const code = generateSync({ secret: totp.secrets[ctx.user!]!, epoch: ctx.step! * 30 });
        return { ...req, headers: { ...(req.headers as Record<string, string>), cookie: ctx.cookie ?? "" }, body: JSON.stringify({ method: "totp", code }) };
      },
    },
  ] as autocannon.Request[];
}

function run(job: LoadJob): Promise<autocannon.Result> {
  if (job.totp) {
    return autocannon({
      url: job.url,
      connections: job.connections,
      headers: { ...job.headers },
      // `amount` counts sign-ins here: two requests each.
      ...(job.amount !== undefined ? { amount: job.amount * 2 } : { duration: job.seconds }),
      requests: twoStepRequests(job, job.totp),
    });
  }
  let c = 0;
  let b = 0;
  const headers: Record<string, string> = { ...job.headers };
  if (job.cookies.length === 1) headers.cookie = job.cookies[0]!;
  const rotate = job.cookies.length > 1 || job.bodies.length > 0;
  return autocannon({
    url: job.url,
    connections: job.connections,
    method: job.method,
    headers,
    ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.seconds }),
    ...(rotate
      ? {
          requests: [
            {
              method: job.method,
              setupRequest: (req: autocannon.Request) => {
                const h: Record<string, string> = { ...(req.headers as Record<string, string>) };
                if (job.cookies.length > 1) h.cookie = job.cookies[c++ % job.cookies.length]!;
                return { ...req, headers: h, ...(job.bodies.length > 0 ? { body: job.bodies[b++ % job.bodies.length] } : {}) };
              },
            },
          ],
        }
      : {}),
  });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const job = JSON.parse(line) as LoadJob;
  const cpu = process.cpuUsage();
  const t = performance.now();
  const result = await run(job);
  const used = process.cpuUsage(cpu);
  const outcome: LoadOutcome = { result, cpuPct: Math.round(((used.user + used.system) / 1000 / Math.max(1, performance.now() - t)) * 100) };
  process.stdout.write(`RESULT ${JSON.stringify(outcome)}\n`);
}
