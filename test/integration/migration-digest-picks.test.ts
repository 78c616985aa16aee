import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as sqliteMigrate } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import { migrate as pgMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config.js';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { storedDigestPicks } from '../../src/digests/paper-rows.js';
import { freshPostgresUrl, isPostgres, tableNames } from '../support/database.js';

/**
 * The migration that folds `digest_papers` into `digests.picks` keeps every digest's picks, in their
 * order: an install upgraded with sent digests still shows them on the web and never resends them.
 * The store is first migrated to the step before, filled the old way, then upgraded as `npm start` does.
 */
const dialect = isPostgres ? 'postgres' : 'sqlite';
const dir = mkdtempSync(join(tmpdir(), 'paperboy-migration-'));

/** The migration history up to, not including, `tag`. */
function historyBefore(tag: string): string {
  const folder = join(dir, `migrations-${dialect}`);
  cpSync(join('migrations', dialect), folder, { recursive: true });
  const journalFile = join(folder, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((entry) => entry.tag === tag);
  expect(at).toBeGreaterThan(0);
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return folder;
}

/** The old schema, filled: two digests with picks stored out of insertion order, one without any. */
async function oldStore(): Promise<DatabaseConfig> {
  const migrationsFolder = historyBefore(isPostgres ? '0002_digest_picks' : '0007_digest_picks');
  const statements = [
    `insert into subscribers (id, email, status, token_salt, created_at, updated_at) values
      (1, 'reader@example.org', 'active', 'salt', 0, 0)`,
    `insert into papers (id, arxiv_id, title, abstract, authors, categories, published_at, source, first_seen_at, updated_at)
      values (10, '2511.00010', 'Ten', 'a', '[]', '[]', 0, 'hf-daily', 0, 0),
             (11, '2511.00011', 'Eleven', 'a', '[]', '[]', 0, 'hf-daily', 0, 0),
             (12, '2511.00012', 'Twelve', 'a', '[]', '[]', 0, 'hf-daily', 0, 0)`,
    `insert into digests (id, subscriber_id, local_date, status, window_start, planned_at, sent_at) values
      (1, 1, '2026-11-01', 'sent', 0, 0, 1), (2, 1, '2026-11-02', 'sent', 0, 0, 1), (3, 1, '2026-11-03', 'skipped', 0, 0, null)`,
    `insert into digest_papers (digest_id, paper_id, subscriber_id, position, score, topic, matched) values
      (1, 12, 1, 2, 1.5, null, '[]'), (1, 10, 1, 0, 9.25, 'diffusion', '["diffus"]'), (1, 11, 1, 1, 4, 'diffusion', '["diffus","model"]'),
      (2, 11, 1, 0, 3, null, '[]')`,
  ];
  if (isPostgres) {
    const url = freshPostgresUrl();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await pgMigrate(pgDrizzle({ client }), { migrationsFolder });
    for (const statement of statements) await client.query(statement);
    await client.end();
    return { dialect: 'postgres', url, poolSize: 2, statementTimeoutMs: 10_000, connectTimeoutMs: 5_000 };
  }
  const path = join(dir, 'old.db');
  const sqlite = new Database(path);
  sqliteMigrate(sqliteDrizzle({ client: sqlite }), { migrationsFolder });
  for (const statement of statements) sqlite.exec(statement);
  sqlite.close();
  return { dialect: 'sqlite', url: `file:${path}`, path };
}

describe('upgrading a store that kept picks in digest_papers', () => {
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves every digest’s picks onto its row, in order, and drops the old table', async () => {
    db = await openMigratedDatabase(await oldStore());
    const picks = async (digestId: number) =>
      (await storedDigestPicks(db as Db, digestId)).map((pick) => [
        pick.paper.arxivId,
        pick.score,
        pick.topic,
        pick.matched,
      ]);
    expect(await picks(1)).toEqual([
      ['2511.00010', 9.25, 'diffusion', ['diffus']],
      ['2511.00011', 4, 'diffusion', ['diffus', 'model']],
      ['2511.00012', 1.5, undefined, []],
    ]);
    expect(await picks(2)).toEqual([['2511.00011', 3, undefined, []]]);
    expect(await db.value(sql`select picks from digests where id = 3`)).toBeNull();
    expect(await tableNames(db)).not.toContain('digest_papers');
  });
});
