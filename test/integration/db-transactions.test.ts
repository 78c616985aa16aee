import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { isPostgres, testDatabaseUrl } from '../support/database.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('transactions', () => {
  let dir: string;
  let db: Db;
  const labels = () => db.column<string>(sql`select label from tx_probe order by id`);
  const insert = (tx: Db, id: number, label: string) =>
    tx.run(sql`insert into tx_probe (id, label) values (${id}, ${label})`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paperboy-tx-'));
    db = await openMigratedDatabase(loadConfig({ DATABASE_URL: testDatabaseUrl(dir) }).database);
    await db.run(sql`create table tx_probe (id integer primary key, label text not null unique)`);
  });
  beforeEach(async () => {
    await db.run(sql`delete from tx_probe`);
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits concurrent transactions each on its own: one that fails leaves nothing, the others keep theirs', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        db.transaction(async (tx) => {
          await insert(tx, i + 1, `row ${i}`);
          if (i === 3) throw new Error('changed its mind');
          // A constraint error inside one transaction undoes that transaction only.
          if (i === 6) await insert(tx, 100, 'row 0');
          await insert(tx, i + 1000, `second ${i}`);
          return i;
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      ...Array(3).fill('fulfilled'),
      'rejected',
      ...Array(2).fill('fulfilled'),
      'rejected',
      ...Array(3).fill('fulfilled'),
    ]);
    const kept = [0, 1, 2, 4, 5, 7, 8, 9];
    expect(outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []))).toEqual(
      kept,
    );
    expect(await labels()).toEqual([...kept.map((i) => `row ${i}`), ...kept.map((i) => `second ${i}`)]);
  });

  it('commits a transaction that waits on something other than the database, and those begun meanwhile', async () => {
    const slow = db.transaction(async (tx) => {
      await insert(tx, 1, 'slow, before');
      await sleep(30);
      await insert(tx, 2, 'slow, after');
    });
    const others = Array.from({ length: 3 }, (_, i) =>
      db.transaction((tx) => insert(tx, 10 + i, `other ${i}`)),
    );
    await Promise.all([slow, ...others]);
    expect((await labels()).sort()).toEqual(['other 0', 'other 1', 'other 2', 'slow, after', 'slow, before']);
  });

  it('runs calls from outside a transaction after it, never inside it', async () => {
    const [, seen] = await Promise.all([
      db.transaction(async (tx) => {
        await insert(tx, 1, 'first');
        await insert(tx, 2, 'second');
      }),
      db.value<number>(sql`select count(*) from tx_probe`),
    ]);
    // PostgreSQL reads the state before the commit; SQLite's one connection waits for it.
    expect(isPostgres ? [0, 2] : [2]).toContain(Number(seen));
  });

  describe.skipIf(isPostgres)('on SQLite', () => {
    it('answers a transaction only once it is committed: another connection sees its rows', async () => {
      const reader = new Database(join(dir, 'paperboy.db'), { readonly: true });
      try {
        const count = () => (reader.prepare('select count(*) as n from tx_probe').get() as { n: number }).n;
        const done = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            db
              .transaction(async (tx) => {
                await insert(tx, i + 1, `row ${i}`);
              })
              .then(count),
          ),
        );
        expect(done).toEqual([5, 5, 5, 5, 5]);
      } finally {
        reader.close();
      }
    });

    it('commits the transactions begun in one turn of the event loop together, with one COMMIT', async () => {
      const client = (db as unknown as { client: Database.Database }).client;
      const exec = client.exec;
      const statements: string[] = [];
      client.exec = function (source: string) {
        statements.push(source);
        return exec.call(this, source);
      };
      try {
        await Promise.all(
          Array.from({ length: 5 }, (_, i) => db.transaction((tx) => insert(tx, i + 1, `row ${i}`))),
        );
        await db.transaction((tx) => insert(tx, 6, 'next turn'));
      } finally {
        client.exec = exec;
      }
      expect(statements).toEqual(['BEGIN IMMEDIATE', 'COMMIT', 'BEGIN IMMEDIATE', 'COMMIT']);
      expect(await labels()).toHaveLength(6);
    });
  });
});
