import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { readIngestOverview } from '../../src/ops/read-overview.js';
import { readDatabaseStats } from '../../src/ops/read-stats.js';
import { DatesFailedError, ingestPapers } from '../../src/papers/ingest.js';
import { papersFirstSeenSince, readNewestSubmission, searchPapers } from '../../src/papers/store.js';
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
      { source: 'hf-daily', lastSuccessAt: clock.now, failedDates: ['2026-11-19'], newestSubmissionAt: null },
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

const [arxivHead = '', ...arxivEntries] = fixture('arxiv-api-cs.AI-LG-CL-newest-2026-08-02.atom.xml')
  .replace(/<\/feed>\s*$/, '')
  .split(/(?=<entry>)/);

/**
 * arXiv's API over a growing catalogue: `announce` adds submissions (recorded entries under new ids
 * and dates); the server answers newest submission first, page by page, like the real one. A start
 * in `shortPages` answers an empty page (arXiv's known hiccup) that many times.
 */
async function setupArxiv(env: Record<string, string> = {}) {
  const catalogue: { arxivId: string; published: Date }[] = [];
  const shortPages = new Map<number, number>();
  const server = await startFeedServer((_req, res, url) => {
    const start = Number(url.searchParams.get('start'));
    const size = Number(url.searchParams.get('max_results'));
    const short = shortPages.get(start) ?? 0;
    if (short > 0) shortPages.set(start, short - 1);
    const newestFirst = [...catalogue].sort((a, b) => b.published.getTime() - a.published.getTime());
    const page = short > 0 ? [] : newestFirst.slice(start, start + size);
    const entries = page.map(({ arxivId, published }, index) =>
      (arxivEntries[(start + index) % arxivEntries.length] ?? '')
        .replace(/<id>[^<]*<\/id>/, `<id>http://arxiv.org/abs/${arxivId}v1</id>`)
        .replace(/<published>[^<]*<\/published>/, `<published>${published.toISOString()}</published>`),
    );
    const head = arxivHead.replace(
      /<opensearch:totalResults>\d+/,
      `<opensearch:totalResults>${catalogue.length}`,
    );
    send(res, 200, `${head}${entries.join('')}</feed>`, { 'content-type': 'application/atom+xml' });
  });
  let next = 10_000;
  /** `count` submissions, `everyMinutes` apart, the first at `from`; returns their ids. */
  const announce = (count: number, from: string, everyMinutes: number) =>
    Array.from({ length: count }, (_, index) => {
      const arxivId = `2611.${next++}`;
      catalogue.push({ arxivId, published: new Date(Date.parse(from) + index * everyMinutes * 60_000) });
      return arxivId;
    });
  const clock = { now: new Date('2026-11-20T09:00:00Z') };
  const context = await ingestContext(
    { ARXIV_API_URL: server.url, INGEST_RETRIES: '0', ARXIV_MAX_RESULTS: '150', ...env },
    () => clock.now,
  );
  cleanups.push(
    () => server.close(),
    () => context.close(),
  );
  const pagesAsked = () => server.requests.splice(0).map((url) => Number(url.searchParams.get('start')));
  const stored = async () =>
    new Set((await searchPapers(context.db, { limit: 5000 })).map((row) => row.arxivId));
  return { ...context, announce, shortPages, clock, pagesAsked, stored };
}

describe('arxiv catch-up', () => {
  const source = 'arxiv:cs.LG';

  it('reads the newest ARXIV_MAX_RESULTS on its first run, then one page when nothing is new', async () => {
    const { ctx, db, announce, clock, pagesAsked } = await setupArxiv();
    announce(400, '2026-11-16T00:00:00Z', 10);
    const first = await ingestPapers({ ctx, input: { source } });
    expect(pagesAsked()).toEqual([0, 100]);
    expect(first).toMatchObject({ inserted: 150, arxiv: { newestStored: null, pages: 2, end: 'limit' } });
    const newest = new Date(Date.parse('2026-11-16T00:00:00Z') + 399 * 10 * 60_000);
    expect(await readNewestSubmission(db, source)).toEqual(newest);

    clock.now = new Date('2026-11-20T10:00:00Z');
    const second = await ingestPapers({ ctx, input: { source } });
    expect(pagesAsked()).toEqual([0]);
    expect(second).toMatchObject({ inserted: 0, arxiv: { newestStored: newest, pages: 1, end: 'stopAt' } });
    expect((await readDatabaseStats(ctx)).ingestSources).toContainEqual({
      source,
      lastSuccessAt: clock.now,
      failedDates: [],
      newestSubmissionAt: newest,
    });
  });

  it('after three days stopped pages back to the newest stored submission and loses nothing', async () => {
    const { ctx, announce, clock, pagesAsked, stored } = await setupArxiv();
    announce(400, '2026-11-16T00:00:00Z', 10);
    await ingestPapers({ ctx, input: { source } });
    pagesAsked();

    // Three days of announcements while paperboy was down: 250 submissions, more than two pages.
    const missed = announce(250, '2026-11-19T06:50:00Z', 15);
    clock.now = new Date('2026-11-23T09:00:00Z');
    const result = await ingestPapers({ ctx, input: { source } });
    expect(pagesAsked()).toEqual([0, 100, 200]);
    expect(result).toMatchObject({ inserted: 250, updated: 0, arxiv: { end: 'stopAt' } });
    const papers = await stored();
    expect(missed.filter((arxivId) => !papers.has(arxivId))).toEqual([]);

    clock.now = new Date('2026-11-23T10:00:00Z');
    expect(await ingestPapers({ ctx, input: { source } })).toMatchObject({ inserted: 0 });
    expect(pagesAsked()).toEqual([0]);
  });

  it('reads back no further than INGEST_CATCH_UP_DAYS after a longer outage, and says what it skipped', async () => {
    const { ctx, db, announce, clock, pagesAsked, stored } = await setupArxiv({ INGEST_CATCH_UP_DAYS: '2' });
    announce(10, '2026-11-20T00:00:00Z', 10);
    await ingestPapers({ ctx, input: { source } });
    const mark = await readNewestSubmission(db, source);
    pagesAsked();

    // Six days down, a submission an hour: the last two days (48) are read, the rest are not.
    const missed = announce(144, '2026-11-20T02:00:00Z', 60);
    clock.now = new Date('2026-11-26T02:00:00Z');
    const result = await ingestPapers({ ctx, input: { source } });
    expect(pagesAsked()).toEqual([0]);
    expect(result.arxiv).toMatchObject({ end: 'stopAt', skippedAfter: mark });
    const papers = await stored();
    const floor = Date.parse('2026-11-24T02:00:00Z');
    const published = (index: number) => Date.parse('2026-11-20T02:00:00Z') + index * 3600_000;
    expect(missed.filter((arxivId, index) => published(index) > floor && !papers.has(arxivId))).toEqual([]);
    expect(missed.filter((arxivId) => papers.has(arxivId))).toHaveLength(100);
  });

  it('asks again for a page arXiv answers empty too early, and fails the run if it stays empty', async () => {
    const { ctx, db, announce, shortPages, clock, pagesAsked, stored } = await setupArxiv();
    announce(10, '2026-11-19T00:00:00Z', 10);
    await ingestPapers({ ctx, input: { source } });
    const mark = await readNewestSubmission(db, source);
    pagesAsked();

    const missed = announce(250, '2026-11-19T06:00:00Z', 10);
    shortPages.set(100, 3);
    clock.now = new Date('2026-11-21T09:00:00Z');
    await expect(ingestPapers({ ctx, input: { source } })).rejects.toThrow(
      /arXiv answered 0 of 100 entries at 100 of 260 before reaching .*the next run tries again/,
    );
    expect(pagesAsked()).toEqual([0, 100, 100, 100]);
    // Nothing of the failed run is stored, and the next run pages back as far.
    expect((await stored()).size).toBe(10);
    expect(await readNewestSubmission(db, source)).toEqual(mark);

    shortPages.set(100, 1);
    clock.now = new Date('2026-11-21T10:00:00Z');
    expect(await ingestPapers({ ctx, input: { source } })).toMatchObject({ inserted: 250 });
    expect(pagesAsked()).toEqual([0, 100, 100, 200]);
    const papers = await stored();
    expect(missed.every((arxivId) => papers.has(arxivId))).toBe(true);
  });

  it('keeps a mark per source: another category set starts with its own first run', async () => {
    const { ctx, announce, pagesAsked } = await setupArxiv();
    announce(400, '2026-11-16T00:00:00Z', 10);
    await ingestPapers({ ctx, input: { source } });
    pagesAsked();
    expect(await ingestPapers({ ctx, input: { source: 'arxiv:cs.CL' } })).toMatchObject({
      arxiv: { newestStored: null, pages: 2 },
    });
    expect(pagesAsked()).toEqual([0, 100]);
  });

  it('refuses --date for an arXiv source, and a bad source name, recording nothing', async () => {
    const { ctx, db, pagesAsked } = await setupArxiv();
    await expect(ingestPapers({ ctx, input: { source, date: '2026-11-20' } })).rejects.toThrow(
      /--date is for hf-daily only/,
    );
    await expect(ingestPapers({ ctx, input: { source: 'arxiv:cs.LG;drop' } })).rejects.toThrow(
      /arxiv:<category>/,
    );
    expect(pagesAsked()).toEqual([]);
    expect(await runs(db)).toEqual([]);
  });
});
