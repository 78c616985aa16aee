import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type PostgresConfig } from '../../src/config.js';
import { DatabaseUnavailableError, type Db, openDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { freshPostgresUrl, isPostgres } from '../support/database.js';

/** DATABASE_POOL_SIZE, DATABASE_STATEMENT_TIMEOUT_MS and sslmode reach the driver. */
describe.skipIf(!isPostgres)('PostgreSQL settings', () => {
  let url: string;
  let db: Db;
  const configFor = (env: Record<string, string>) =>
    loadConfig({ DATABASE_URL: url, ...env }).database as PostgresConfig;

  beforeAll(async () => {
    url = freshPostgresUrl();
    db = await openDatabase(configFor({ DATABASE_POOL_SIZE: '3', DATABASE_STATEMENT_TIMEOUT_MS: '200' }));
  });
  afterAll(async () => {
    await db?.close();
  });

  it('cancels a statement that runs past DATABASE_STATEMENT_TIMEOUT_MS', async () => {
    await expect(db.value(sql`select pg_sleep(2)`)).rejects.toThrow(/statement timeout/);
    expect(await db.value(sql`select 1`)).toBe(1);
  });

  it('opens no more than DATABASE_POOL_SIZE connections, however many queries wait', async () => {
    const name = new URL(url).pathname.slice(1);
    const counts: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        await db.value(sql`select pg_sleep(0.05)`);
        counts.push(
          (await db.value<number>(
            sql`select count(*) from pg_stat_activity where datname = ${name} and application_name = 'paperboy'`,
          )) ?? 0,
        );
      }),
    );
    expect(Math.max(...counts)).toBeGreaterThan(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(3);
  });

  it('honours sslmode in the URL: require against a server without TLS stops with one clear reason', async () => {
    const withTls = new URL(url);
    withTls.searchParams.set('sslmode', 'require');
    const started = Date.now();
    const error = await openDatabase(
      loadConfig({ DATABASE_URL: withTls.toString() }).database as PostgresConfig,
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toMatch(/^cannot reach PostgreSQL at postgres:\/\/.*: .*SSL/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
