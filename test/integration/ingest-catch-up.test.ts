import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { readIngestOverview } from '../../src/ops/read-overview.js';
import { readDatabaseStats } from '../../src/ops/read-stats.js';
import { DatesFailedError, ingestPapers } from '../../src/papers/ingest.js';
import { papersFirstSeenSince, searchPapers } from '../../src/papers/store.js';
import { fixture, send, startFeedServer } from '../support/feed-server.js';
import { ingestContext } from '../support/ingest.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Item = { paper: { id: string; upvotes: number } };
const recorded = JSON.parse(fixture('hf-daily-papers-2026-03-10.json')) as Item[];
/** A copy of the i-th recorded item, so a test can change its upvotes. */
const item = (index: number): Item => structuredClone(recorded[index] as Item);

/**
 * Hugging Face with a different list per `date`; a date in `failing` answers 503. The clock is
 * moved by hand, as days pass.
 */
async function setup(env: Record<string, string> = {}) {
  const lists = new Map<string, Item[]>();
  const failing = new Set<string>();
  const server = await startFeedServer((_req, res, url) => {
    const date = url.searchParams.get('date') ?? '';
    if (failing.has(date)) send(res, 503, 'unavailable');
    else send(res, 200, JSON.stringify(lists.get(date) ?? []), { 'content-type': 'application/json' });
  });
  const clock = { now: new Date('2026-11-20T09:00:00Z') };
  const context = await ingestContext(
    { HF_API_URL: server.url, INGEST_RETRIES: '0', ...env },
    () => clock.now,
  );
  cleanups.push(
    () => server.close(),
    () => context.close(),
  );
  const fetchedDates = () => server.requests.splice(0).map((url) => url.searchParams.get('date'));
  return { ...context, server, lists, failing, clock, fetchedDates };
}

const runs = (db: Db) =>
  db.all<{ date: string; status: string; inserted: number; updated: number }>(
    sql`select date, status, inserted, updated from ingest_runs order by id`,
  );
const paper = async (db: Db, arxivId: string) =>
  (await searchPapers(db, { limit: 500 })).find((row) => row.arxivId === arxivId);

describe('hf-daily catch-up', () => {
  it('fetches yesterday and today on an empty store, recording each date on its own', async () => {
    const { ctx, db, lists, fetchedDates } = await setup();
    lists.set('2026-11-19', [item(0), item(1)]);
    lists.set('2026-11-20', [item(2)]);
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toEqual(['2026-11-19', '2026-11-20']);
    expect(result).toMatchObject({
      inserted: 3,
      dates: [
        { date: '2026-11-19', inserted: 2, updated: 0, rejected: 0 },
        { date: '2026-11-20', inserted: 1, updated: 0, rejected: 0 },
      ],
    });
    expect(await runs(db)).toEqual([
      { date: '2026-11-19', status: 'ok', inserted: 2, updated: 0 },
      { date: '2026-11-20', status: 'ok', inserted: 1, updated: 0 },
    ]);
  });

  it('after three days stopped fetches the missing dates on its first run, oldest first', async () => {
    const { ctx, db, lists, clock, fetchedDates } = await setup();
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    fetchedDates();
    lists.set('2026-11-21', [item(0)]);
    lists.set('2026-11-22', [item(1)]);
    lists.set('2026-11-23', [item(2)]);
    clock.now = new Date('2026-11-23T09:00:00Z');
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    // The last successful date again (its list may have grown), then each date missed.
    expect(fetchedDates()).toEqual(['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']);
    expect(result.inserted).toBe(3);
    expect((await runs(db)).slice(2).map((run) => [run.date, run.status, run.inserted])).toEqual([
      ['2026-11-20', 'ok', 0],
      ['2026-11-21', 'ok', 1],
      ['2026-11-22', 'ok', 1],
      ['2026-11-23', 'ok', 1],
    ]);
  });

  it('fetches no more than INGEST_CATCH_UP_DAYS dates, the newest', async () => {
    const { ctx, lists, clock, fetchedDates } = await setup({ INGEST_CATCH_UP_DAYS: '2' });
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    fetchedDates();
    lists.set('2026-11-25', [item(0)]);
    clock.now = new Date('2026-11-26T09:00:00Z');
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toEqual(['2026-11-25', '2026-11-26']);
  });

  it('picks up a paper added to yesterday’s list after its last run, once past midnight UTC', async () => {
    const { ctx, db, lists, clock, fetchedDates } = await setup();
    lists.set('2026-11-20', [item(0)]);
    clock.now = new Date('2026-11-20T23:05:00Z');
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    lists.set('2026-11-20', [item(0), item(1)]);
    fetchedDates();

    clock.now = new Date('2026-11-21T00:05:00Z');
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toContain('2026-11-20');
    expect(result.inserted).toBe(1);
    expect((await paper(db, item(1).paper.id))?.firstSeenAt.toISOString()).toBe('2026-11-21T00:05:00.000Z');
  });

  it('stores the other dates when one fails, reports the failure, and retries that date next run', async () => {
    const { ctx, db, lists, failing, clock, fetchedDates } = await setup();
    lists.set('2026-11-19', [item(0)]);
    lists.set('2026-11-20', [item(1)]);
    failing.add('2026-11-19');
    const error = await ingestPapers({ ctx, input: { source: 'hf-daily' } }).catch((caught) => caught);
    expect(error).toBeInstanceOf(DatesFailedError);
    expect((error as Error).message).toMatch(/^2026-11-19: .*503/);
    expect((error as DatesFailedError).result.dates).toEqual([
      { date: '2026-11-19', error: expect.stringMatching(/503/) },
      { date: '2026-11-20', inserted: 1, updated: 0, rejected: 0 },
    ]);
    expect(await paper(db, item(1).paper.id)).toBeDefined();
    expect((await runs(db)).map((run) => [run.date, run.status])).toEqual([
      ['2026-11-19', 'failed'],
      ['2026-11-20', 'ok'],
    ]);

    // The operator sees the last success and the date still missing, in the stats and the overview.
    expect((await readDatabaseStats(ctx)).ingestSources).toEqual([
      { source: 'hf-daily', lastSuccessAt: clock.now, failedDates: ['2026-11-19'] },
    ]);
    expect((await readIngestOverview(db, clock.now)).sources[0]?.failedDates).toEqual(['2026-11-19']);

    // Three days later the failed date is older than the usual window, and is fetched again.
    failing.clear();
    fetchedDates();
    clock.now = new Date('2026-11-23T09:00:00Z');
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toEqual(['2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23']);
    expect(result.dates?.[0]).toEqual({ date: '2026-11-19', inserted: 1, updated: 0, rejected: 0 });
    expect((await readDatabaseStats(ctx)).ingestSources[0]?.failedDates).toEqual([]);

    // Once it succeeded, it is no longer reached back for.
    clock.now = new Date('2026-11-23T10:00:00Z');
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toEqual(['2026-11-21', '2026-11-22', '2026-11-23']);
  });

  it('refreshes the upvotes of a 2-day-old paper without offering it again as new', async () => {
    const { ctx, db, lists, clock } = await setup();
    const listed = item(0);
    listed.paper.upvotes = 3;
    lists.set('2026-11-20', [listed]);
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });

    const lastRun = new Date('2026-11-22T09:00:00Z');
    clock.now = lastRun;
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    listed.paper.upvotes = 41;
    clock.now = new Date('2026-11-22T10:00:00Z');
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(result).toMatchObject({ inserted: 0, updated: 1 });

    const stored = await paper(db, listed.paper.id);
    expect(stored?.upvotes).toBe(41);
    expect(stored?.firstSeenAt.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    expect(await papersFirstSeenSince(db, lastRun, 100)).toEqual([]);
  });

  it('counts a run recorded before dates were by the UTC day it finished', async () => {
    const { ctx, db, fetchedDates } = await setup();
    const finished = new Date('2026-11-16T23:05:00Z');
    await db.run(sql`insert into ingest_runs (source, started_at, finished_at, status)
      values ('hf-daily', ${finished}, ${finished}, 'ok')`);
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    expect(fetchedDates()).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
  });

  it('fetches exactly the date asked for with --date', async () => {
    const { ctx, db, fetchedDates } = await setup();
    await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-10-01' } });
    expect(fetchedDates()).toEqual(['2026-10-01']);
    expect((await runs(db)).map((run) => run.date)).toEqual(['2026-10-01']);
  });
});
