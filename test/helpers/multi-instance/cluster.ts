import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import pg from "pg";
import { PG_URL } from "../backends.js";
import { freePort } from "../processes.js";
import { startBalancer, type Balancer } from "./balancer.js";
import { startGatehouseProcess, type GatehouseProcess } from "./gatehouse-process.js";
import { startRedisServer, type RedisNode } from "./redis-processes.js";

/** Several Gatehouse processes on one PostgreSQL schema and one Redis, behind nginx. */
export interface Cluster {
  schema: string;
  redis: RedisNode;
  instances: GatehouseProcess[];
  balancer: Balancer;
  /** The environment every instance shares (DATABASE_URL, REDIS_URL, SECRET_KEY, PUBLIC_URL, …). */
  env: Record<string, string>;
  /** Starts one more instance on the shared database with `env` over the shared one (not behind the balancer). */
  startExtra(name: string, env?: Record<string, string>): Promise<GatehouseProcess>;
  /** Every instance's and nginx's output, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** `DATABASE_URL` for PG_URL with `schema` first on the search path: how the CLI suites point a process at one schema. */
export const inSchema = (schema: string): string => `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

async function pgQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Starts `count` instances at once on a fresh schema (they race to migrate
 * it, as a rolling deploy would; Kysely's lock serializes them) and a
 * private redis-server, then nginx in front. `env` is added to every
 * instance's environment.
 */
export async function startCluster(count: number, env: Record<string, string>): Promise<Cluster> {
  const schema = `gh_multi_${process.pid}_${randomBytes(4).toString("hex")}`;
  await pgQuery(`create schema ${schema}`);
  // .ci/run counts the PostgreSQL schemas created, to prove the PostgreSQL suites ran.
  if (process.env.GATEHOUSE_PG_MARKER) appendFileSync(process.env.GATEHOUSE_PG_MARKER, `${schema}\n`);
  const cleanups: (() => Promise<void>)[] = [() => pgQuery(`drop schema if exists ${schema} cascade`)];
  const instances: GatehouseProcess[] = [];
  const extras: GatehouseProcess[] = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop(true));
    const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
    // The balancer's port must be known before the instances start: it is their PUBLIC_URL.
    const publicPort = await freePort();
    const shared: Record<string, string> = {
      NODE_ENV: "development",
      SECRET_KEY: randomBytes(32).toString("hex"),
      DATABASE_URL: inSchema(schema),
      REDIS_URL: redis.url,
      PUBLIC_URL: `http://127.0.0.1:${publicPort}`,
      TRUSTED_PROXIES: "127.0.0.1/32",
      REGISTRATION: "open",
      ...env,
    };
    const started = await Promise.allSettled(ports.map((port, i) => startGatehouseProcess(`gh${i + 1}`, port, shared)));
    for (const s of started) if (s.status === "fulfilled") instances.push(s.value);
    cleanups.push(async () => {
      await Promise.all([...instances, ...extras].map((g) => g.stop()));
    });
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    const balancer = await startBalancer(ports, publicPort);
    cleanups.push(() => balancer.stop());
    return {
      schema,
      redis,
      instances,
      balancer,
      env: shared,
      async startExtra(name, more = {}) {
        const g = await startGatehouseProcess(name, await freePort(), { ...shared, ...more });
        extras.push(g);
        return g;
      },
      logs: () => [...instances, ...extras].map((g) => `--- ${g.name} (:${g.port})\n${g.output().slice(-5_000)}`).join("\n") + `\n--- nginx\n${balancer.logs()}`,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
