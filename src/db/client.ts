import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '../../migrations');

/**
 * The database holds every address and each subscriber's token salt: owner only. Directories
 * paperboy creates are 0700; one that already exists is left alone (DATABASE_URL may point into a
 * shared directory). The file itself is created 0600 before SQLite opens it (SQLite would make it
 * 0644), and tightened if it is looser; SQLite gives its -wal and -shm files the main file's mode.
 */
function prepareDatabaseFile(path: string) {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Left-over -wal/-shm files of a looser earlier run keep their mode unless tightened too.
  // Only files we own: chmod on another user's file would fail, and is theirs to decide.
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    const stats = statSync(file, { throwIfNoEntry: false });
    const isLoose = stats !== undefined && stats.uid === process.getuid?.() && (stats.mode & 0o077) !== 0;
    if (isLoose) chmodSync(file, stats.mode & 0o700);
  }
}

/** Opens the SQLite file with the pragmas a busy multi-process service needs. */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') prepareDatabaseFile(path);
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
