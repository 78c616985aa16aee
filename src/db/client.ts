import type { DatabaseConfig } from '../config.js';
import { type Dialect, empty, type Sql, sql } from './sql.js';

export type Row = Record<string, unknown>;

/**
 * The one way features reach the database, the same on SQLite and PostgreSQL. Queries are `sql`
 * templates; a store compiles them to its own placeholders. Every call is asynchronous (PostgreSQL's
 * driver is); on SQLite a call runs at once and only the answer goes through a promise.
 */
export interface Db {
  readonly dialect: Dialect;
  /** True for the handle `transaction` passes in. */
  readonly isTransaction: boolean;
  all<T = Row>(query: Sql): Promise<T[]>;
  get<T = Row>(query: Sql): Promise<T | undefined>;
  /** The first column of every row. */
  column<T = unknown>(query: Sql): Promise<T[]>;
  /**
   * Every row as an array of its columns, in the query's order: cheaper to make than an object per
   * row (a quarter of the subscriber walk's time on SQLite), for reads of many rows.
   */
  tuples<T extends readonly unknown[]>(query: Sql): Promise<T[]>;
  /** The first column of the first row. */
  value<T = unknown>(query: Sql): Promise<T | undefined>;
  /** Runs a write; answers how many rows it changed. */
  run(query: Sql): Promise<number>;
  /**
   * Runs `fn` in one transaction: SQLite's `BEGIN IMMEDIATE` (writers queue, one at a time), or a
   * PostgreSQL transaction on one pooled connection in which reads that decide a write lock their
   * rows (`forUpdate`). `fn` gets the handle to use, and must only touch the database: on SQLite the
   * write lock is held until it returns, and on PostgreSQL it runs again after a deadlock.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Throws unless the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `for update` on PostgreSQL inside a transaction: the row read is locked until commit, so two
 * transactions deciding on the same row take turns, as SQLite's IMMEDIATE transactions always do.
 */
export const forUpdate = (db: Db): Sql =>
  db.dialect === 'postgres' && db.isTransaction ? sql` for update` : empty;

/**
 * `in (…values)` with one bound value whatever the count, so the query's text (and its prepared
 * statement) stays one: a JSON list on SQLite, an array on PostgreSQL.
 */
export const inList = (db: Db, values: readonly number[] | readonly string[]): Sql => {
  if (values.length === 0) return sql`in (null)`; // matches nothing, on both
  if (db.dialect === 'sqlite') return sql`in (select value from json_each(${JSON.stringify(values)}))`;
  return typeof values[0] === 'string' ? sql`= any(${values}::text[])` : sql`= any(${values}::integer[])`;
};

/** The database named by DATABASE_URL does not answer (start-up stops with this one line). */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Opens the store DATABASE_URL names: an SQLite file, or a PostgreSQL server. */
export async function openDatabase(config: DatabaseConfig): Promise<Db> {
  if (config.dialect === 'postgres') {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(config);
  }
  const { openSqlite } = await import('./sqlite.js');
  return openSqlite(config.path);
}

/** Brings the schema up to date; safe when several processes start at once. */
export async function migrateDatabase(db: Db): Promise<void> {
  if (db.dialect === 'postgres') {
    const { migratePostgres } = await import('./postgres.js');
    return migratePostgres(db);
  }
  const { migrateSqlite } = await import('./sqlite.js');
  return migrateSqlite(db);
}

/** Opens the store and brings its schema up to date, as every command does first. */
export async function openMigratedDatabase(config: DatabaseConfig): Promise<Db> {
  const db = await openDatabase(config);
  try {
    await migrateDatabase(db);
    return db;
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
}

/** Runs `fn` inside one transaction (see `Db.transaction`). */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}
