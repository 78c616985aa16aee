import { describe, expect, it } from 'vitest';
import { compile, sql } from '../../src/db/sql.js';

describe('the sql template', () => {
  it('binds values, never splices them: ? for SQLite, $n for PostgreSQL', () => {
    const hostile = "x'); drop table subscribers; --";
    const query = sql`select id from subscribers where email = ${hostile} and status = ${'active'}`;
    expect(compile(query, 'sqlite')).toEqual({
      text: 'select id from subscribers where email = ? and status = ?',
      values: [hostile, 'active'],
    });
    expect(compile(query, 'postgres')).toEqual({
      text: 'select id from subscribers where email = $1 and status = $2',
      values: [hostile, 'active'],
    });
  });

  it('numbers the values of nested fragments and joins in order', () => {
    const rows = [1, 2].map((id) => sql`(${id}, ${`t${id}`})`);
    const query = sql`insert into t (a, b) values ${sql.join(rows)} returning ${sql.raw('id')}`;
    expect(compile(query, 'postgres')).toEqual({
      text: 'insert into t (a, b) values ($1, $2), ($3, $4) returning id',
      values: [1, 't1', 2, 't2'],
    });
    expect(compile(query, 'sqlite').text).toBe('insert into t (a, b) values (?, ?), (?, ?) returning id');
  });

  it('binds a shared parameter once, referenced wherever it is used', () => {
    const seen = sql.param(5);
    const query = sql`select 1 where a < ${seen} or (a = ${seen} and b < ${7})`;
    expect(compile(query, 'postgres')).toEqual({
      text: 'select 1 where a < $1 or (a = $1 and b < $2)',
      values: [5, 7],
    });
    expect(compile(query, 'sqlite')).toEqual({
      text: 'select 1 where a < @r1 or (a = @r1 and b < ?)',
      values: [7, { r1: 5 }],
    });
  });

  it('binds a Date as epoch milliseconds and a boolean as 1 or 0, and refuses undefined', () => {
    const at = new Date('2026-11-28T10:00:00Z');
    expect(compile(sql`select ${at}, ${true}, ${false}, ${null}`, 'sqlite').values).toEqual([
      at.getTime(),
      1,
      0,
      null,
    ]);
    expect(() => compile(sql`select ${undefined}`, 'postgres')).toThrow(/undefined bound in SQL/);
  });

  it('gives the same text each time a template runs (one prepared statement per call site)', () => {
    const texts = [1, 2, 3].map((id) => compile(sql`select * from papers where id = ${id}`, 'postgres'));
    expect(new Set(texts.map((compiled) => compiled.text))).toEqual(
      new Set(['select * from papers where id = $1']),
    );
    expect(texts.map((compiled) => compiled.values)).toEqual([[1], [2], [3]]);
  });
});
