import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { freshPostgresUrl, isPostgres } from '../support/database.js';

/**
 * The two migration histories (migrations/sqlite, migrations/postgres) must build the same schema:
 * same tables, columns (kind and nullability), primary keys, indexes (columns, uniqueness) and
 * foreign keys (columns, target, on delete). Read from real databases after migrating, so a
 * hand-edited migration is caught as surely as a schema file edited for one dialect only.
 * What exists on one side by design: SQLite's FTS5 tables, PostgreSQL's `papers.search` and its index.
 */

interface Shape {
  columns: string[];
  primaryKey: string[];
  indexes: string[];
  foreignKeys: string[];
}

const kinds: Record<string, string> = {
  integer: 'integer',
  bigint: 'integer',
  text: 'text',
  real: 'real',
  'double precision': 'real',
};

async function sqliteShape(db: Db): Promise<Record<string, Shape>> {
  const tables = await db.column<string>(sql`select name from sqlite_master where type = 'table'
    and name not like 'sqlite_%' and name not like '__drizzle%' and name not like 'papers_fts%' order by name`);
  const shape: Record<string, Shape> = {};
  for (const table of tables) {
    const name = sql.raw(`'${table}'`);
    const columns = await db.all<{ name: string; type: string; notnull: number; pk: number }>(
      sql`select name, type, "notnull", pk from pragma_table_info(${name})`,
    );
    const indexes = await db.all<{ name: string; unique: number; origin: string }>(
      sql`select name, "unique", origin from pragma_index_list(${name}) where origin = 'c'`,
    );
    const indexShapes: string[] = [];
    for (const index of indexes) {
      const indexColumns = await db.column<string>(
        sql`select name from pragma_index_info(${sql.raw(`'${index.name}'`)}) order by seqno`,
      );
      indexShapes.push(`${index.name} ${index.unique ? 'unique ' : ''}(${indexColumns.join(', ')})`);
    }
    const foreignKeys = await db.all<{ from: string; table: string; to: string; on_delete: string }>(
      sql`select "from", "table", "to", on_delete from pragma_foreign_key_list(${name})`,
    );
    shape[table] = {
      columns: columns
        .map(
          (column) =>
            `${column.name} ${kinds[column.type.toLowerCase()]} ${column.notnull ? 'not null' : 'null'}`,
        )
        .sort(),
      primaryKey: columns.filter((column) => column.pk > 0).map((column) => column.name),
      indexes: indexShapes.sort(),
      foreignKeys: foreignKeys
        .map((key) => `${key.from} → ${key.table}.${key.to} on delete ${key.on_delete.toLowerCase()}`)
        .sort(),
    };
  }
  return shape;
}

async function postgresShape(db: Db): Promise<Record<string, Shape>> {
  const tables = await db.column<string>(sql`select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`);
  const shape: Record<string, Shape> = {};
  for (const table of tables) {
    const columns = await db.all<{ name: string; type: string; nullable: string }>(sql`
      select column_name as name, data_type as type, is_nullable as nullable from information_schema.columns
      where table_schema = 'public' and table_name = ${table} and not (table_name = 'papers' and column_name = 'search')`);
    const primaryKey = await db.column<string>(sql`
      select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = ${table}::regclass and i.indisprimary`);
    const indexes = await db.all<{ name: string; unique: boolean; columns: string }>(sql`
      select c.relname as name, i.indisunique as unique,
        (select string_agg(a.attname, ', ' order by k.n) from unnest(i.indkey) with ordinality k(attnum, n)
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) as columns
      from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${table}::regclass and not i.indisprimary and c.relname != 'papers_search_idx'`);
    const foreignKeys = await db.all<{ from: string; table: string; to: string; action: string }>(sql`
      select a.attname as from, t.relname as table, fa.attname as to, c.confdeltype as action
      from pg_constraint c
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      join pg_class t on t.oid = c.confrelid
      join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
      where c.conrelid = ${table}::regclass and c.contype = 'f'`);
    const actions: Record<string, string> = { a: 'no action', c: 'cascade', r: 'restrict', n: 'set null' };
    shape[table] = {
      columns: columns
        .map(
          (column) =>
            `${column.name} ${kinds[column.type]} ${column.nullable === 'NO' ? 'not null' : 'null'}`,
        )
        .sort(),
      primaryKey,
      indexes: indexes
        .map((index) => `${index.name} ${index.unique ? 'unique ' : ''}(${index.columns})`)
        .sort(),
      foreignKeys: foreignKeys
        .map((key) => `${key.from} → ${key.table}.${key.to} on delete ${actions[key.action]}`)
        .sort(),
    };
  }
  return shape;
}

describe.skipIf(!isPostgres)('the SQLite and PostgreSQL schemas', () => {
  let dir: string;
  let sqlite: Db;
  let postgres: Db;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paperboy-parity-'));
    sqlite = await openMigratedDatabase({ dialect: 'sqlite', url: 'file:', path: join(dir, 'parity.db') });
    postgres = await openMigratedDatabase({
      dialect: 'postgres',
      url: freshPostgresUrl(),
      poolSize: 2,
      statementTimeoutMs: 10_000,
      connectTimeoutMs: 5_000,
    });
  });

  afterAll(async () => {
    await sqlite?.close();
    await postgres?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('have the same tables, columns, keys, indexes and foreign keys after migrating', async () => {
    const [left, right] = await Promise.all([sqliteShape(sqlite), postgresShape(postgres)]);
    expect(Object.keys(left)).toContain('digests');
    expect(left.digests?.indexes).toContain(
      'digests_subscriber_date_unique unique (subscriber_id, local_date)',
    );
    expect(right).toEqual(left);
  });

  it('would notice a difference: a column missing on one side', async () => {
    await postgres.run(sql`alter table ingest_runs drop column error`);
    const [left, right] = await Promise.all([sqliteShape(sqlite), postgresShape(postgres)]);
    expect(right).not.toEqual(left);
    expect(left.ingest_runs?.columns).toContain('error text null');
    expect(right.ingest_runs?.columns).not.toContain('error text null');
  });
});
