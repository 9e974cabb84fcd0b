// The load generator, in a process of its own (pinned to the load core when
// the run pins): autocannon's programmatic API, driven by the runner through
// stdin, one JSON job per line, answering one `RESULT {...}` line per job on
// stdout (autocannon's result plus this process's own CPU use). Run by
// bench/lib/load.ts on plain `node`; nothing here is measured as a server.
import { createInterface } from "node:readline";
import autocannon from "autocannon";

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
}

/** What a job answers: autocannon's result and this process's CPU use while it ran. */
export interface LoadOutcome {
  result: autocannon.Result;
  /** CPU time (user + system) of the load process over the job's wall time, % of one core. */
  cpuPct: number;
}

function run(job: LoadJob): Promise<autocannon.Result> {
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
