import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { copyStore, TargetNotEmptyError } from '../../src/ops/copy-store.js';
import { api, startTestApp, type TestApp, testSecret } from '../support/app.js';
import { tableNames, testDatabaseUrl } from '../support/database.js';
import { snapshotDb } from '../support/db.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import type { ReceivedMail } from '../support/smtp-sink.js';

const bin = new URL('../../bin/paperboy.js', import.meta.url).pathname;

/**
 * `paperboy copy`: an SQLite install (always SQLite: that is what people move from) copied into the
 * test store (PostgreSQL under `npm run test:postgres`, another SQLite file otherwise).
 */
describe('copying an install to another store', () => {
  let dir: string;
  let source: TestApp;
  let manageLink: string;
  let targetUrl: string;
  let target: Db;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paperboy-copy-'));
    source = await startTestApp({ env: { DATABASE_URL: `file:${join(dir, 'source.db')}` } });
    const { db } = source.runtime;
    await seedSamplePapers(db);
    await seedSubscriber(db, { email: 'ada@example.org', topics: ['language model', 'diffusion'] });
    await seedSubscriber(db, { email: 'grace@example.org', status: 'unsubscribed', topics: ['agents'] });
    await api(source, '/api/subscriptions', { body: { email: 'new@example.org', topics: ['robotics'] } });
    await planDigests({ ctx: source.runtime.ctx, input: { mode: 'all' } });
    // Ada's digest carries her manage link, signed by the source install.
    const hasManageLink = (mail: ReceivedMail) => /\/manage\//.test(mail.parsed.html || '');
    const mails = await source.smtp.waitFor((received) => received.some(hasManageLink), 15_000);
    const digest = mails.find(hasManageLink);
    manageLink = (digest?.parsed.html || '').match(/https?:\/\/[^"]+\/manage\/[^"]+/)?.[0] ?? '';
    targetUrl = testDatabaseUrl(mkdtempSync(join(dir, 'target-')));
    target = await openMigratedDatabase(loadConfig({ DATABASE_URL: targetUrl }).database);
  });

  afterAll(async () => {
    await target?.close();
    await source?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every row of every table, and the counts match', async () => {
    const progress: number[] = [];
    const result = await copyStore({
      source: source.runtime.db,
      target,
      onProgress: (done) => progress.push(done),
    });
    expect(result.tables.map((table) => table.name).sort()).toEqual(await tableNames(target));
    for (const table of result.tables) expect(table.target, table.name).toBe(table.source);
    const count = (name: string) => result.tables.find((table) => table.name === name)?.target;
    expect(count('subscribers')).toBe(3);
    expect(count('papers')).toBeGreaterThan(100);
    expect(count('digests')).toBeGreaterThan(0);
    expect(progress.at(-1)).toBe(result.tables.reduce((sum, table) => sum + table.source, 0));
    // Same rows, value for value (ids, token salts, JSON text, instants).
    const [from, to] = await Promise.all([snapshotDb(source.runtime.db), snapshotDb(target)]);
    for (const { name } of result.tables) {
      const strip = (rows: unknown[]) =>
        (rows as Record<string, unknown>[]).map(({ search: _search, ...row }) => row);
      expect(strip(to[name] ?? []), name).toEqual(strip(from[name] ?? []));
    }
  });

  it('refuses a target that holds rows, and changes nothing there', async () => {
    const before = await snapshotDb(target);
    await expect(copyStore({ source: source.runtime.db, target })).rejects.toThrow(TargetNotEmptyError);
    expect(await snapshotDb(target)).toEqual(before);
  });

  it('the copied install runs: links emailed before the move work, new rows get new ids', async () => {
    expect(manageLink).toMatch(/\/manage\//);
    const moved = await startTestApp({ env: { DATABASE_URL: targetUrl } });
    try {
      const path = new URL(manageLink).pathname;
      const page = await fetch(`${moved.url}${path}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('ada@example.org');
      const subscribed = await api(moved, '/api/subscriptions', { body: { email: 'later@example.org' } });
      expect(subscribed.status).toBe(202);
      const ids = await moved.runtime.db.all<{ id: number; email: string }>(
        sql`select id, email from subscribers order by id`,
      );
      expect(ids.at(-1)).toEqual({ id: 4, email: 'later@example.org' });
    } finally {
      await moved.close();
    }
  });

  it('paperboy copy --to: refuses a non-empty target with one line; --replace copies again', () => {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      SECRET_KEY: testSecret,
      DATABASE_URL: `file:${join(dir, 'source.db')}`,
      LOG_LEVEL: 'warn',
    };
    const refused = spawnSync(process.execPath, [bin, 'copy', '--to', targetUrl], { env, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^paperboy: the target already holds \d+ rows; .*--replace/);

    const replaced = spawnSync(process.execPath, [bin, 'copy', '--to', targetUrl, '--replace'], {
      env,
      encoding: 'utf8',
    });
    expect(replaced.stderr).toBe('');
    expect(replaced.status).toBe(0);
    expect(replaced.stdout).toMatch(/^subscribers +3 → 3$/m);
    expect(replaced.stdout).toMatch(/^copied \d+ rows$/m);

    const bad = spawnSync(process.execPath, [bin, 'copy', '--to', 'mysql://db/x'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--to: DATABASE_URL');
  });
});
