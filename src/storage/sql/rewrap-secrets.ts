import { sql, type Kysely } from "kysely";
import { contextOf, ENCRYPTED_COLUMNS, type EncryptedColumn } from "../../core/secrets/encrypted-columns.js";
import { isGatehouseError } from "../../core/errors.js";
import type { SecretBox } from "../../core/secrets/secret-box.js";
import { envelopeKeyId } from "../../core/secrets/secret-envelope.js";
import type { Database } from "./database.js";
import { writeTransaction } from "./write-transaction.js";

/** Any table, any column: the registry names tables and columns as strings. */
type LooseDatabase = Record<string, Record<string, string | number | null>>;

/** What a rewrap did to one encrypted column. */
export interface RewrapReport {
  table: string;
  column: string;
  /** Rows looked at. */
  rows: number;
  /** Rows re-encrypted under the active key. */
  rewrapped: number;
  /** Rows that could not be decrypted (left as they are). */
  unreadable: number;
  /** Why, for the first few unreadable rows (table, row, key id; never a secret). */
  problems: string[];
}

const MAX_PROBLEMS = 5;

/**
 * Re-encrypts every envelope of every {@link ENCRYPTED_COLUMNS} entry that
 * is not under the box's active key. Walks each table in key order, one
 * batch per transaction; each row is replaced only if its envelope is still
 * the one read (a concurrent write wins). A row that does not decrypt is
 * counted and left untouched: rotation never destroys a value it could not
 * read.
 */
export async function rewrapSecrets(
  db: Kysely<Database>,
  box: SecretBox,
  options: { batchSize?: number; columns?: readonly EncryptedColumn[] } = {},
): Promise<RewrapReport[]> {
  const batchSize = options.batchSize ?? 200;
  const reports: RewrapReport[] = [];
  for (const entry of options.columns ?? ENCRYPTED_COLUMNS) {
    const report: RewrapReport = { table: entry.table, column: entry.column, rows: 0, rewrapped: 0, unreadable: 0, problems: [] };
    let last: string | null = null;
    for (;;) {
      const count: number = await writeTransaction(db, async (trx) => {
        const loose = trx as unknown as Kysely<LooseDatabase>;
        let query = loose
          .selectFrom(entry.table)
          .select([entry.keyColumn, entry.column, ...entry.idColumns])
          .orderBy(entry.keyColumn)
          .limit(batchSize);
        if (last !== null) query = query.where(entry.keyColumn, ">", last);
        const rows = (await query.execute()) as Record<string, unknown>[];
        const changes: { key: string; old: string; next: string }[] = [];
        for (const row of rows) {
          report.rows++;
          const envelope = String(row[entry.column]);
          // A column that also holds blanked or pre-envelope values leaves those alone.
          if (entry.mixed && envelopeKeyId(envelope) === null) continue;
          if (!box.needsRewrap(envelope)) continue;
          const ctx = contextOf(entry, row);
          try {
            changes.push({ key: String(row[entry.keyColumn]), old: envelope, next: box.seal(box.open(envelope, ctx), ctx) });
          } catch (err) {
            if (!isGatehouseError(err, "secret_unreadable")) throw err;
            report.unreadable++;
            if (report.problems.length < MAX_PROBLEMS) report.problems.push(err.cause instanceof Error ? err.cause.message : `row ${ctx.id} (key ${envelopeKeyId(envelope) ?? "?"})`);
          }
        }
        if (changes.length > 0) {
          // One statement per batch (UPDATE … FROM (VALUES …), SQLite ≥ 3.33 and PostgreSQL); a row changed since it was read keeps its value.
          const list = sql.join(changes.map((c) => sql`(${c.key}, ${c.old}, ${c.next})`));
          const result = await sql`update ${sql.table(entry.table)} set ${sql.ref(entry.column)} = v.column3 from (values ${list}) as v where ${sql.ref(`${entry.table}.${entry.keyColumn}`)} = v.column1 and ${sql.ref(`${entry.table}.${entry.column}`)} = v.column2`.execute(trx);
          report.rewrapped += Number(result.numAffectedRows ?? 0n);
        }
        if (rows.length > 0) last = String(rows[rows.length - 1]![entry.keyColumn]);
        return rows.length;
      });
      if (count < batchSize) break;
    }
    reports.push(report);
  }
  return reports;
}

/** How many envelopes of each encrypted column are under each key id (`?` for a value that is not an envelope; not counted in a `mixed` column). */
export async function countSecretsByKey(db: Kysely<Database>, columns: readonly EncryptedColumn[] = ENCRYPTED_COLUMNS): Promise<{ table: string; column: string; byKey: Record<string, number> }[]> {
  const loose = db as unknown as Kysely<LooseDatabase>;
  const out: { table: string; column: string; byKey: Record<string, number> }[] = [];
  for (const entry of columns) {
    const byKey: Record<string, number> = {};
    let last: string | null = null;
    for (;;) {
      let query = loose.selectFrom(entry.table).select([entry.keyColumn, entry.column]).orderBy(entry.keyColumn).limit(1000);
      if (last !== null) query = query.where(entry.keyColumn, ">", last);
      const rows = (await query.execute()) as Record<string, unknown>[];
      for (const row of rows) {
        const id = envelopeKeyId(String(row[entry.column]));
        if (id === null && entry.mixed) continue;
        byKey[id ?? "?"] = (byKey[id ?? "?"] ?? 0) + 1;
      }
      if (rows.length < 1000) break;
      last = String(rows[rows.length - 1]![entry.keyColumn]);
    }
    out.push({ table: entry.table, column: entry.column, byKey });
  }
  return out;
}
