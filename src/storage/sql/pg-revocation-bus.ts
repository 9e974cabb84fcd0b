import { createHash } from "node:crypto";
import { sql, type Kysely } from "kysely";
import pg from "pg";
import { encodeRevocationNotice, type RevocationBus } from "../../core/sessions/revocation-bus.js";
import { createRevocationListeners } from "../revocation-listeners.js";
import type { Database } from "./database.js";

/** Options of {@link openPgRevocationBus}. */
export interface PgRevocationBusOptions {
  /** The database the notices are sent through (the ordinary pool). */
  db: Kysely<Database>;
  /** `DATABASE_URL`: the listening connection is a client of its own. */
  url: string;
  /** The listening connection's `application_name` (`pg_stat_activity`), e.g. with the instance id. */
  applicationName: string;
  /** How long to wait for the first LISTEN before going on (it keeps retrying; default 5 s). */
  readyTimeoutMs?: number;
  /** Delay before the n-th reconnection attempt (default 100 ms × n, at most 5 s). */
  backoffMs?: (attempt: number) => number;
  /** The listening connection dropped (notices are lost until it is back). */
  onDisconnect?(): void;
  onError(err: unknown): void;
}

/** PostgreSQL identifiers are at most 63 bytes: a long schema name is hashed into the channel name. */
export function revocationChannel(schema: string): string {
  const plain = `gatehouse_revocations_${schema}`;
  if (/^[a-z0-9_]+$/.test(plain) && plain.length <= 63) return plain;
  return `gatehouse_revocations_${createHash("sha256").update(schema).digest("hex").slice(0, 32)}`;
}

/**
 * {@link RevocationBus} on PostgreSQL `LISTEN`/`NOTIFY`, for deployments on
 * PostgreSQL without Redis. One channel per schema (instances sharing a
 * database but not a schema do not hear each other). Notices are sent with
 * `pg_notify` through the pool; they are received on a dedicated client that
 * reconnects with a growing delay when its connection drops, and reports
 * each (re)established `LISTEN`. Resolves once listening, or after
 * `readyTimeoutMs` with the client still retrying.
 */
export async function openPgRevocationBus(options: PgRevocationBusOptions): Promise<RevocationBus> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(options.db);
  const channel = revocationChannel(rows[0]?.schema ?? "public");
  const backoff = options.backoffMs ?? ((attempt: number) => Math.min(100 * attempt, 5_000));
  const listeners = createRevocationListeners();
  let client: pg.Client | null = null;
  let closed = false;
  let attempt = 0;
  let retry: NodeJS.Timeout | null = null;

  function scheduleReconnect(): void {
    if (closed || retry !== null) return;
    attempt++;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, backoff(attempt));
    retry.unref();
  }

  async function connect(): Promise<void> {
    const c = new pg.Client({ connectionString: options.url, application_name: options.applicationName, keepAlive: true });
    let listening = false;
    const lost = (err?: unknown): void => {
      if (client !== c) return;
      client = null;
      if (err !== undefined && !closed) options.onError(err);
      c.end().catch(() => undefined);
      if (listening && !closed) options.onDisconnect?.();
      scheduleReconnect();
    };
    c.on("error", (err) => lost(err));
    c.on("end", () => lost());
    c.on("notification", (msg) => {
      if (msg.channel === channel && msg.payload !== undefined) listeners.deliver(msg.payload);
    });
    client = c;
    try {
      await c.connect();
      await c.query(`listen "${channel}"`);
    } catch (err) {
      lost(err);
      return;
    }
    if (closed || client !== c) return;
    listening = true;
    attempt = 0;
    listeners.subscribed();
  }

  void connect();
  await listeners.ready(options.readyTimeoutMs ?? 5_000);

  return {
    async publish(notice) {
      await sql`select pg_notify(${channel}, ${encodeRevocationNotice(notice)})`.execute(options.db);
    },
    subscribe: listeners.subscribe,
    onReconnect: listeners.onReconnect,
    async close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
