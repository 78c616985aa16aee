import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { Db } from '../db/client.js';
import * as schema from '../db/schema.js';
import { sql } from '../db/sql.js';

/**
 * Every table, parents before children, with the key a copy pages by. Rows keep their ids: tokens in
 * emails already sent seal the subscriber's (or request's, or digest's) id, and sign with its salt.
 */
export const copiedTables: { table: SQLiteTable; key: string[] }[] = [
  { table: schema.subscribers, key: ['id'] },
  { table: schema.subscriberTopics, key: ['subscriber_id', 'position'] },
  { table: schema.subscriptionRequests, key: ['id'] },
  { table: schema.subscriberEvents, key: ['id'] },
  { table: schema.papers, key: ['id'] },
  { table: schema.ingestRuns, key: ['id'] },
  { table: schema.digests, key: ['id'] },
  { table: schema.paperFeedback, key: ['id'] },
  { table: schema.likedPapers, key: ['id'] },
];

const batchSize = 500;

/** The target holds rows, and the copy was not told to replace them. */
export class TargetNotEmptyError extends Error {
  constructor(readonly rows: number) {
    super(
      `the target already holds ${rows} rows; copy into an empty database, or pass --replace to empty it first`,
    );
    this.name = 'TargetNotEmptyError';
  }
}

export interface CopyResult {
  tables: { name: string; source: number; target: number }[];
}

const countRows = async (db: Db, name: string) =>
  (await db.value<number>(sql`select count(*) from ${sql.raw(name)}`)) ?? 0;

/**
 * Copies a whole install from one store to another (`paperboy copy --to …`): every row of every
 * table, ids and token salts included, so the links in emails already sent keep working (with the same
 * SECRET_KEY). Refuses a target that holds any row unless `replace` (which empties it first). Each
 * batch is one transaction on the target; a copy that stops part-way is redone with `replace`.
 */
export async function copyStore({
  source,
  target,
  replace = false,
  onProgress,
}: {
  source: Db;
  target: Db;
  replace?: boolean;
  onProgress?: (done: number, total: number) => void;
}): Promise<CopyResult> {
  const tables = copiedTables.map(({ table, key }) => {
    const config = getTableConfig(table);
    return { name: config.name, key, columns: config.columns.map((column) => column.name) };
  });

  const held = (await Promise.all(tables.map((table) => countRows(target, table.name)))).reduce(
    (sum, count) => sum + count,
    0,
  );
  if (held > 0 && !replace) throw new TargetNotEmptyError(held);
  if (held > 0) {
    await target.transaction(async (tx) => {
      for (const table of [...tables].reverse()) await tx.run(sql`delete from ${sql.raw(table.name)}`);
    });
  }

  const sourceCounts = await Promise.all(tables.map((table) => countRows(source, table.name)));
  const total = sourceCounts.reduce((sum, count) => sum + count, 0);
  let done = 0;
  onProgress?.(done, total);
  for (const table of tables) {
    const columns = sql.raw(table.columns.join(', '));
    const keys = sql.raw(`(${table.key.join(', ')})`);
    const order = sql.raw(table.key.join(', '));
    let after: unknown[] = table.key.map(() => -1);
    for (;;) {
      const rows = await source.all(sql`select ${columns} from ${sql.raw(table.name)}
        where ${keys} > (${sql.join(after.map((value) => sql`${value}`))}) order by ${order} limit ${batchSize}`);
      if (rows.length === 0) break;
      const values = rows.map(
        (row) => sql`(${sql.join(table.columns.map((column) => sql`${row[column]}`))})`,
      );
      await target.run(sql`insert into ${sql.raw(table.name)} (${columns}) values ${sql.join(values)}`);
      const last = rows.at(-1) as Record<string, unknown>;
      after = table.key.map((column) => last[column]);
      done += rows.length;
      onProgress?.(done, total);
    }
  }
  if (target.dialect === 'postgres') {
    // Ids were copied as they were: move each identity past the highest, so new rows do not collide.
    for (const table of tables.filter((table) => table.key[0] === 'id')) {
      const name = sql.raw(table.name);
      await target.run(sql`select setval(pg_get_serial_sequence(${table.name}, 'id'),
        coalesce((select max(id) from ${name}), 0) + 1, false)`);
    }
  }

  const targetCounts = await Promise.all(tables.map((table) => countRows(target, table.name)));
  return {
    tables: tables.map((table, index) => ({
      name: table.name,
      source: sourceCounts[index] as number,
      target: targetCounts[index] as number,
    })),
  };
}
