import { Migrator, sql, type DatabaseIntrospector, type Kysely, type SchemaMetadata, type TableMetadata } from "kysely";
import type { Database } from "./database.js";
import { migrations } from "./migrations/index.js";

/**
 * Kysely's migrator, told to look only at `schema` when it checks whether its
 * bookkeeping tables exist (PostgreSQL).
 *
 * Kysely's own PostgreSQL introspector lists every column of every table in
 * every schema, calling `pg_get_serial_sequence` on each by name. When another
 * schema of the same database is being migrated or dropped at that moment
 * (parallel test runs, a second tenant), the catalog rows it read no longer
 * match and the query fails ("column … of relation … does not exist", "schema
 * … does not exist"). Asking only about the one schema removes the race.
 * Without a schema (SQLite) the migrator is Kysely's, unchanged.
 */
export function schemaScopedMigrator(db: Kysely<Database>, schema?: string): Migrator {
  const provider = { getMigrations: async () => migrations };
  if (!schema) return new Migrator({ db, provider });
  return new Migrator({ db: withIntrospector(db, new SchemaTablesIntrospector(db, schema)), provider, migrationTableSchema: schema });
}

/** The same Kysely instance, with `introspection` replaced. */
function withIntrospector(db: Kysely<Database>, introspector: DatabaseIntrospector): Kysely<Database> {
  return new Proxy(db, {
    get(target, property) {
      if (property === "introspection") return introspector;
      const value: unknown = Reflect.get(target, property, target);
      // Kysely keeps its state in private fields: its methods must run on the real instance.
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Lists tables (names only, which is all the migrator asks) of one schema. */
class SchemaTablesIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db);
    return rows.map((r) => ({ name: r.name }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      select c.relname as name from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.schema} and c.relkind in ('r', 'p')`.execute(this.db);
    return rows.map((r) => ({ name: r.name, schema: this.schema, isView: false, columns: [] }));
  }

  async getMetadata(): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables() };
  }
}
