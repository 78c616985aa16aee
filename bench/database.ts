import { randomBytes } from 'node:crypto';
import { copyFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { type DatabaseConfig, loadConfig } from '../src/config.js';
import { type Db, openDatabase, openMigratedDatabase } from '../src/db/client.js';
import { sql } from '../src/db/sql.js';

/**
 * The store a DATABASE_URL names, read as the service reads it. Benchmarks pass URLs around (to
 * child processes too), never SQLite paths, so that another store needs no change to them.
 */
export const databaseConfig = (url: string): DatabaseConfig =>
  loadConfig({ NODE_ENV: 'test', DATABASE_URL: url, LOG_LEVEL: 'silent' }).database;

/** The DATABASE_URL of an SQLite file. */
export const sqliteUrl = (path: string) => `file:${path}`;

/** Opens the store the URL names, without touching its schema. */
export const openBenchDatabase = (url: string): Promise<Db> => openDatabase(databaseConfig(url));

/** Opens the store the URL names and brings its schema up to date, as every command does first. */
export const openMigratedBenchDatabase = (url: string): Promise<Db> =>
  openMigratedDatabase(databaseConfig(url));

/**
 * SQLite: moves the write-ahead log into the database file, so the file's size is the data's and a
 * copy of the file alone is whole. Other stores have nothing to do.
 */
export async function checkpoint(db: Db): Promise<void> {
  if (db.dialect === 'sqlite') await db.get(sql`pragma wal_checkpoint(TRUNCATE)`);
}

/** The stores a benchmark can run on (`--db`). */
export type Store = 'sqlite' | 'postgres';
export const storeNames: Record<Store, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

/**
 * The PostgreSQL server benchmarks create their throwaway databases on (an admin URL: it must be
 * allowed to create and drop databases). Each bench database is `pbbench_<pid>_<label>_<random>`.
 */
export const postgresAdminUrl =
  process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const benchDatabasePrefix = `pbbench_${process.pid}_`;

/** One throwaway database of a benchmark: its URL, and how to get rid of it. */
export interface BenchStore {
  store: Store;
  url: string;
  /** The SQLite file, or the PostgreSQL database's name. */
  name: string;
  drop(): Promise<void>;
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl, application_name: 'pb-bench-admin' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const postgresUrlOf = (database: string) => {
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

const dropPostgres = (name: string) =>
  withAdmin(async (client) => {
    await client.query(`drop database if exists "${name}" with (force)`);
  });

function postgresStore(name: string): BenchStore {
  return { store: 'postgres', url: postgresUrlOf(name), name, drop: () => dropPostgres(name) };
}

function sqliteStore(path: string): BenchStore {
  return {
    store: 'sqlite',
    url: sqliteUrl(path),
    name: path,
    drop: async () => {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
    },
  };
}

const databaseName = (label: string) =>
  `${benchDatabasePrefix}${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;

/** A new, empty store (no schema): an SQLite file in `directory`, or a new PostgreSQL database. */
export async function createStore(store: Store, directory: string, label: string): Promise<BenchStore> {
  if (store === 'sqlite') return sqliteStore(join(directory, `${label}.sqlite`));
  const name = databaseName(label);
  await withAdmin(async (client) => {
    await client.query(`create database "${name}"`);
  });
  return postgresStore(name);
}

/**
 * A copy of a store whose every connection is closed (and, for SQLite, checkpointed): a file copy,
 * or `create database … template …`, which PostgreSQL refuses while anyone is still connected to
 * the template (a pool's backends take a moment to go after `end()`): it is tried again for 5 s.
 */
export async function cloneStore(
  template: BenchStore,
  directory: string,
  label: string,
): Promise<BenchStore> {
  if (template.store === 'sqlite') {
    const path = join(directory, `${label}.sqlite`);
    copyFileSync(template.name, path);
    return sqliteStore(path);
  }
  const name = databaseName(label);
  await withAdmin(async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`create database "${name}" template "${template.name}"`);
        return;
      } catch (error) {
        const isBusy = /being accessed by other users/.test(String(error));
        if (!isBusy || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  return postgresStore(name);
}

/** Bytes the store takes: the SQLite file (checkpoint first), or `pg_database_size`. */
export async function storeBytes(store: BenchStore): Promise<number> {
  if (store.store === 'sqlite') return statSync(store.name).size;
  return withAdmin(
    async (client) =>
      Number((await client.query('select pg_database_size($1) as n', [store.name])).rows[0]?.n) || 0,
  );
}

/**
 * The URL with `application_name` set (PostgreSQL; an SQLite URL is returned as it is), so that the
 * benchmark's sampler of `pg_stat_activity` tells workers from the benchmark's own connections. A
 * name in the URL wins over the one paperboy's pool sets.
 */
export function withApplicationName(url: string, name: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/** Drops every database this benchmark process created and did not drop (after a failure). */
export async function dropLeftoverDatabases(): Promise<string[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [benchDatabasePrefix],
    );
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
    return rows.map((row) => row.datname);
  });
}
