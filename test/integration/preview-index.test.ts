import { rmSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePapers } from '../../bench/fixtures/papers.js';
import { createRandom } from '../../bench/fixtures/random.js';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { createLogger } from '../../src/log.js';
import type { PaperRecord } from '../../src/papers/normalize.js';
import { upsertPapers } from '../../src/papers/store.js';
import { buildPaperIndex, matchTopic } from '../../src/topics/match.js';
import { parseTopic } from '../../src/topics/parse.js';
import { createMatchQueue, createPreviewIndexes, previewTopic } from '../../src/topics/preview.js';
import { testConfig } from '../support/app.js';

const day = 86_400_000;

/** The preview's index holder on the real test store: 2,000 papers first seen over the last year. */
describe('preview index', () => {
  const { config, dir } = testConfig();
  let db: Db;
  const clock = { now: new Date('2026-08-03T12:00:00Z') };
  const firstSeen = new Map<string, number>();
  let records: PaperRecord[] = [];
  const ctx = () => ({ db, clock: () => clock.now, log: createLogger('silent') });

  beforeAll(async () => {
    db = await openMigratedDatabase(config.database);
    records = generatePapers(createRandom(11), 2000, clock.now).records;
    // A paper a few hours apart, back over 400 days: every `days` value sees a different set.
    const seenAt = records.map((record, i) => {
      const seen = new Date(clock.now.getTime() - Math.floor((i * 400 * day) / records.length));
      firstSeen.set(record.arxivId, seen.getTime());
      return seen;
    });
    // Each paper is its own batch (its own first-seen time); four in flight, as PostgreSQL's pool allows.
    let next = 0;
    const storeNext = async () => {
      for (let i = next++; i < records.length; i = next++) {
        await upsertPapers(db, [records[i] as PaperRecord], 'file', seenAt[i] as Date);
      }
    };
    await Promise.all(Array.from({ length: 4 }, storeNext));
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every `days` from 1 to 365 from one index, with exactly the papers of that window', async () => {
    const indexes = createPreviewIndexes(ctx());
    const queue = createMatchQueue();
    const topic = 'model';
    const previews = [];
    for (let days = 1; days <= 365; days++) {
      previews.push(await previewTopic({ ctx: ctx(), input: { q: topic, days, limit: 50 }, indexes, queue }));
      // Checked as it goes: an index per `days` would take gigabytes long before the end.
      expect(indexes.stats().builds).toBe(1);
    }
    const inYear = [...firstSeen.values()].filter((at) => at >= clock.now.getTime() - 365 * day).length;
    expect(indexes.stats()).toMatchObject({ builds: 1, papers: inYear });
    // The matches of each window are those of an index of that window's papers alone.
    for (const days of [1, 7, 30, 90, 365]) {
      const since = clock.now.getTime() - days * day;
      const inWindow = records.filter((record) => (firstSeen.get(record.arxivId) as number) >= since);
      const papers = inWindow.map((record) => ({
        ...record,
        categories: record.categories ?? [],
        upvotes: record.upvotes ?? 0,
      }));
      const expected = matchTopic(buildPaperIndex(papers), parseTopic(topic));
      const preview = previews[days - 1] as (typeof previews)[number];
      expect(preview.total, `days=${days}`).toBe(expected.length);
      expect(expected.length).toBeGreaterThan(0);
    }
    const totals = previews.map((preview) => preview.total);
    expect([...totals].sort((x, y) => x - y)).toEqual(totals);
  });

  it('is small: its ~1,800 papers take a few megabytes, not hundreds', async () => {
    const indexes = createPreviewIndexes(ctx());
    await indexes.get();
    const { bytes, papers } = indexes.stats();
    expect(papers).toBeGreaterThan(1800);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(16 * 1024 * 1024);
  });

  it('builds without holding the event loop for more than a few tens of milliseconds', async () => {
    const indexes = createPreviewIndexes(ctx());
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    // A timer that should fire every 5 ms: it would starve behind a synchronous build.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    try {
      await indexes.get();
    } finally {
      clearInterval(ticker);
      delay.disable();
    }
    expect(indexes.stats().builds).toBe(1);
    // Generous for a busy CI machine; a synchronous build of these papers takes hundreds of ms.
    expect(delay.max / 1e6).toBeLessThan(100);
    expect(ticks).toBeGreaterThan(2);
  });

  it('keeps answering from the previous index while it builds the next, then swaps', async () => {
    const indexes = createPreviewIndexes(ctx());
    const queue = createMatchQueue();
    const first = await indexes.get();
    await upsertPapers(
      db,
      [
        {
          arxivId: '2608.99999',
          title: 'Zyzzyva: a rare word',
          abstract: 'Nothing else has it.',
          authors: ['Ada Lovelace'],
          publishedAt: clock.now,
        },
      ],
      'file',
      clock.now,
    );
    // A new paper makes the index stale: the answer still comes from the one there is, at once.
    expect(await indexes.get()).toBe(first);
    expect(indexes.stats()).toMatchObject({ builds: 1, isBuilding: true });
    const input = { q: 'zyzzyva', days: 1 };
    expect((await previewTopic({ ctx: ctx(), input, indexes, queue })).total).toBe(0);
    await expect.poll(() => indexes.stats().builds, { timeout: 20_000 }).toBe(2);
    expect(indexes.stats().isBuilding).toBe(false);
    expect((await previewTopic({ ctx: ctx(), input, indexes, queue })).total).toBe(1);
    // Only one build runs at a time, however many previews find the index stale meanwhile.
    clock.now = new Date(clock.now.getTime() + 2 * 60_000);
    try {
      await Promise.all(Array.from({ length: 20 }, () => indexes.get()));
      await expect.poll(() => indexes.stats().isBuilding, { timeout: 20_000 }).toBe(false);
      expect(indexes.stats().builds).toBe(3);
    } finally {
      clock.now = new Date('2026-08-03T12:00:00Z');
      await db.run(sql`delete from papers where arxiv_id = '2608.99999'`);
    }
  });
});
