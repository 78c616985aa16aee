import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { PostgresConfig } from '../config.js';
import { DatabaseUnavailableError, type Db, type Row } from './client.js';
import { compile, type Sql } from './sql.js';

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations/postgres');

// bigint (instants in ms, counts) and numeric arrive as text; every value paperboy keeps fits a double.
const int8 = 20;
const numeric = 1700;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === int8 || oid === numeric
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

type Queryable = pg.Pool | pg.PoolClient;

/**
 * Each query text is prepared once per connection, by name, and only bound after that. The texts are
 * the code's own, a bounded set; should that ever stop being true, texts past the first 1,000 are
 * sent unprepared rather than fill every connection's memory.
 */
const names = new Map<string, string>();
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name === undefined && names.size < 1000) {
    name = `pb_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;

  constructor(
    readonly pool: pg.Pool,
    private readonly client: Queryable,
    readonly isTransaction: boolean,
  ) {}

  private config(query: Sql) {
    const { text, values } = compile(query, 'postgres');
    return { text, values, name: statementName(text) };
  }

  async all<T = Row>(query: Sql): Promise<T[]> {
    return (await this.client.query(this.config(query))).rows as T[];
  }

  async get<T = Row>(query: Sql): Promise<T | undefined> {
    return (await this.all<T>(query))[0];
  }

  async column<T = unknown>(query: Sql): Promise<T[]> {
    const result = await this.client.query({ ...this.config(query), rowMode: 'array' });
    return result.rows.map((row) => row[0] as T);
  }

  async tuples<T extends readonly unknown[]>(query: Sql): Promise<T[]> {
    return (await this.client.query({ ...this.config(query), rowMode: 'array' })).rows as unknown as T[];
  }

  async value<T = unknown>(query: Sql): Promise<T | undefined> {
    return (await this.column<T>(query))[0];
  }

  async run(query: Sql): Promise<number> {
    return (await this.client.query(this.config(query))).rowCount ?? 0;
  }

  /**
   * READ COMMITTED, with explicit row locks (`forUpdate`) and unique indexes deciding races. Two
   * transactions that lock rows in opposite orders deadlock; PostgreSQL aborts one (40P01), and it is
   * run again here, as is a serialization failure (40001): `fn` only touches the database.
   */
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.isTransaction) return fn(this);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(fn);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  private async transactionOnce<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection the server ends while it is checked out (a restart) reports it as an event; with no
    // listener that would end the process. The transaction's next query fails instead, and the
    // connection is destroyed rather than returned to the pool.
    let isBroken = false;
    const onError = () => {
      isBroken = true;
    };
    client.on('error', onError);
    try {
      await client.query('begin');
      try {
        const result = await fn(new PostgresDb(this.pool, client, true));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }
    } finally {
      client.off('error', onError);
      client.release(isBroken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A PostgreSQL URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * A pool of connections to the server DATABASE_URL names (its `sslmode` and the rest of its query
 * string are the driver's). Opening checks one connection, so a wrong host, database or password
 * stops start-up with the server's own reason.
 */
export async function openPostgres(config: PostgresConfig): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'paperboy',
    types,
  });
  // A connection that dies while idle (server restart) is dropped and replaced on next use.
  pool.on('error', () => {});
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseUnavailableError(`cannot reach PostgreSQL at ${redactUrl(config.url)}: ${reason}`, {
      cause: error,
    });
  }
  return new PostgresDb(pool, pool, false);
}

/** Any number (two serve, three workers starting together) may call this: one migrates, the rest wait. */
const migrationLock = 0x70617065; // "pape"

export async function migratePostgres(db: Db): Promise<void> {
  const client = await (db as PostgresDb).pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [migrationLock]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [migrationLock]);
    }
  } finally {
    client.release();
  }
}
