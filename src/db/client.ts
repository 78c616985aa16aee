import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Opens the SQLite file with the pragmas a busy multi-process service needs. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Several processes (serve, worker) share one file: wait for a writer instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  return drizzle({ client: sqlite, schema });
}

export function migrateDatabase(db: Db): void {
  migrate(db, { migrationsFolder });
}

/** Runs `fn` inside one IMMEDIATE transaction, so concurrent writers queue instead of deadlocking. */
export function inTransaction<T>(db: Db, fn: (tx: Db) => T): T {
  return db.$client.transaction(() => fn(db)).immediate();
}

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * A prepared statement compiled once per connection and reused: hot paths (a digest send runs a dozen
 * statements) otherwise spend more time compiling SQL than running it. Not for statements that are
 * iterated (a statement cannot be reused while an iterator over it is open).
 */
export function prepared(db: Db, sql: string, mode: 'rows' | 'pluck' = 'rows'): Database.Statement {
  let cache = statementCache.get(db.$client);
  if (!cache) {
    cache = new Map();
    statementCache.set(db.$client, cache);
  }
  const key = `${mode}:${sql}`;
  let statement = cache.get(key);
  if (!statement) {
    statement = db.$client.prepare(sql);
    if (mode === 'pluck') statement.pluck();
    cache.set(key, statement);
  }
  return statement;
}
