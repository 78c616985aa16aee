import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';

/**
 * Which store the suite runs on: SQLite unless `TEST_DATABASE=postgres` (`npm run test:postgres`).
 * On PostgreSQL every test database is a fresh one on the server of `TEST_POSTGRES_URL`, named
 * after the run (`pbtest_<pid>_…`); the run's global teardown drops them.
 */
export const isPostgres = process.env.TEST_DATABASE === 'postgres';
export const testPostgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testDatabasePrefix = 'pbtest_';

/** A URL naming a new PostgreSQL database on the test server. */
export function freshPostgresUrl(): string {
  const name = `${inject('databasePrefix')}${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  // Synchronous (psql), so test configs stay plain values; about 0.1 s each.
  execFileSync('psql', [testPostgresUrl, '-qc', `create database ${name}`], { stdio: 'pipe' });
  const url = new URL(testPostgresUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** DATABASE_URL for a test: a file in its private directory, or a fresh PostgreSQL database. */
export function testDatabaseUrl(dir: string): string {
  return isPostgres ? freshPostgresUrl() : `file:${join(dir, 'paperboy.db')}`;
}

/** The tables paperboy owns, without the migrator's bookkeeping. */
export async function tableNames(db: Db): Promise<string[]> {
  return db.dialect === 'postgres'
    ? db.column<string>(sql`select table_name from information_schema.tables
        where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`)
    : db.column<string>(sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'
        and name not like '__drizzle%' and name not like 'papers_fts%' order by name`);
}
