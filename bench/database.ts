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
