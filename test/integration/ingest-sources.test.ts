import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { sql } from '../../src/db/sql.js';
import { ingestPapers } from '../../src/papers/ingest.js';
import { fetchArxiv } from '../../src/papers/sources/arxiv-atom.js';
import { searchPapers } from '../../src/papers/store.js';
import { snapshotDb } from '../support/db.js';
import { fixture, recordedArxivPage, send, startFeedServer } from '../support/feed-server.js';
import { ingestContext } from '../support/ingest.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  route: Parameters<typeof startFeedServer>[0],
  env: Record<string, string> = {},
  clock?: () => Date,
) {
  const server = await startFeedServer(route);
  const context = await ingestContext({ HF_API_URL: server.url, ARXIV_API_URL: server.url, ...env }, clock);
  cleanups.push(
    () => server.close(),
    () => context.close(),
  );
  return { server, ...context };
}

const paperRow = async (db: Db, arxivId: string) =>
  (await searchPapers(db, { limit: 500 })).find((paper) => paper.arxivId === arxivId);

describe('hf-daily source', () => {
  it('maps the fields of real daily-papers records', async () => {
    const { ctx, db, server } = await setup((_req, res) =>
      send(res, 200, fixture('hf-daily-papers-2026-03-10.json'), { 'content-type': 'application/json' }),
    );
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-03-10' } });
    expect(result).toMatchObject({ inserted: 28, updated: 0, rejected: [] });
    expect(server.requests[0]?.pathname).toBe('/daily_papers');
    expect(server.requests[0]?.searchParams.get('date')).toBe('2026-03-10');

    const bench = await paperRow(db, '2603.07980');
    expect(bench).toMatchObject({
      title: '$OneMillion-Bench: How Far are Language Agents from Human Experts?',
      upvotes: 15,
      githubRepo: 'https://github.com/humanlaya/OneMillion-Bench',
      thumbnail: 'https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2603.07980.png',
      source: 'hf-daily',
      categories: [],
    });
    expect(bench?.aiSummary).toMatch(/^A new benchmark evaluates language mo/);
    expect(bench?.aiKeywords).toBeNull(); // HF sent [""] while it had none
    expect((await paperRow(db, '2603.07660'))?.aiKeywords?.slice(0, 2)).toEqual([
      '3D Gaussian Splatting',
      '3DGS',
    ]);

    // A paper whose AI fields were not generated yet: stored without them.
    const janus = await paperRow(db, '2603.00791');
    expect(janus).toMatchObject({ aiSummary: null, aiKeywords: null, githubRepo: null, upvotes: 0 });
    expect(janus?.authors).toEqual(['Tachin Ruangkriengsin', 'Günther Turk', 'Howard A. Stone']);
    expect(janus?.publishedAt.toISOString()).toBe('2026-02-28T19:22:45.000Z');
  });

  it('unwraps hard-wrapped titles and abstracts of the older schema', async () => {
    const { ctx, db } = await setup((_req, res) =>
      send(res, 200, fixture('hf-daily-papers-2024-10-10.json')),
    );
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2024-10-10' } });
    expect(result.inserted).toBe(46);
    for (const paper of await searchPapers(db, { limit: 100 })) {
      expect(paper.title).not.toMatch(/\n|\s{2}/);
      expect(paper.abstract).not.toMatch(/\n/);
    }
  });

  it('is idempotent: a second ingest changes no row, a new upvote count changes only upvotes', async () => {
    let body = fixture('hf-daily-papers-2026-03-10.json');
    const { ctx, db } = await setup((_req, res) => send(res, 200, body));
    const clock = { now: new Date('2026-03-10T09:00:00Z') };
    ctx.clock = () => clock.now;
    await ingestPapers({ ctx, input: { source: 'hf-daily' } });
    const before = (await snapshotDb(db)).papers;

    clock.now = new Date('2026-03-10T10:00:00Z');
    expect(await ingestPapers({ ctx, input: { source: 'hf-daily' } })).toMatchObject({
      inserted: 0,
      updated: 0,
    });
    expect((await snapshotDb(db)).papers).toEqual(before);

    body = body.replace('"upvotes": 15,', '"upvotes": 99,');
    clock.now = new Date('2026-03-10T11:00:00Z');
    expect(await ingestPapers({ ctx, input: { source: 'hf-daily' } })).toMatchObject({
      inserted: 0,
      updated: 1,
    });
    const bench = await paperRow(db, '2603.07980');
    expect(bench?.upvotes).toBe(99);
    expect(bench?.firstSeenAt.toISOString()).toBe('2026-03-10T09:00:00.000Z');
    expect(bench?.updatedAt.toISOString()).toBe('2026-03-10T11:00:00.000Z');
  });

  it('stores nothing for an empty day', async () => {
    const { ctx, db } = await setup((_req, res) => send(res, 200, '[]'));
    expect(await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-01-01' } })).toMatchObject({
      inserted: 0,
      updated: 0,
      rejected: [],
    });
    expect((await snapshotDb(db)).papers).toEqual([]);
  });

  it('skips and reports a malformed record while the rest of the batch goes in', async () => {
    const items = JSON.parse(fixture('hf-daily-papers-2026-03-10.json')) as {
      paper: Record<string, unknown>;
    }[];
    if (items[1]) items[1].paper.id = 'not-an-id';
    if (items[4]) {
      delete items[4].paper.title;
      delete (items[4] as Record<string, unknown>).title;
    }
    const { ctx } = await setup((_req, res) => send(res, 200, JSON.stringify(items)));
    const result = await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-03-10' } });
    expect(result.inserted).toBe(26);
    expect(result.rejected).toEqual([
      { index: 1, reason: '"not-an-id" is not an arXiv id' },
      { index: 4, reason: expect.stringMatching(/title/) },
    ]);
  });
});

describe('arxiv source', () => {
  it('maps real API entries: primary category first, cross-lists kept, version dropped', async () => {
    const { ctx, db, server } = await setup(recordedArxivPage);
    const result = await ingestPapers({ ctx, input: { source: 'arxiv:cs.AI+cs.LG+cs.CL' } });
    expect(result).toMatchObject({ inserted: 25, rejected: [] });
    const query = server.requests[0]?.searchParams;
    expect(query?.get('search_query')).toBe('cat:cs.AI OR cat:cs.LG OR cat:cs.CL');
    expect(query?.get('sortBy')).toBe('submittedDate');

    const seiberg = await paperRow(db, '2607.28628');
    expect(seiberg?.title).toBe('Learning to Trace Seiberg Dualities');
    expect(seiberg?.categories[0]).toBe('hep-th'); // primary, outside the queried set
    expect(seiberg?.categories).toEqual(expect.arrayContaining(['cs.LG']));
    const beta = (await searchPapers(db, { limit: 100 })).find((paper) => paper.title.includes('-OPSD'));
    expect(beta?.title).toMatch(/^\$β\$-OPSD: /);
  });

  it('reads versions, old-style ids, LaTeX and entities from the relevance-sorted feed', async () => {
    const xml = fixture('arxiv-api-all-testing-100-2026-04-12.atom.xml');
    const { ctx, db } = await setup((_req, res) => send(res, 200, xml));
    const result = await ingestPapers({ ctx, input: { source: 'arxiv:cs.SE' } });
    expect(result.inserted).toBe(100);
    expect((await paperRow(db, 'cs/0503050'))?.title).toBe(
      'Systematic Method for Path-Complete White Box Testing',
    );
    expect(await paperRow(db, 'hep-ph/0301050')).toBeDefined();
    expect((await paperRow(db, '2306.03845'))?.title).toBe(
      '$ω$Test: WebView-Oriented Testing for Android Applications',
    );
    for (const paper of await searchPapers(db, { limit: 200 })) {
      expect(paper.arxivId).not.toMatch(/v\d+$/);
      expect(paper.abstract).not.toMatch(/&(lt|gt|amp);/);
    }
  });

  it('keeps one paper across versions: v2 updates v1 and keeps its first-seen time', async () => {
    const entry = (version: number, title: string) =>
      `<entry><id>http://arxiv.org/abs/2401.01234v${version}</id><title>${title}</title><summary>About &lt;b&gt; tags &amp; more.</summary><author><name>Ada Lovelace</name></author><category term="cs.LG"/><arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG"/><published>2024-01-03T00:00:00Z</published></entry>`;
    const feed = (...entries: string[]) =>
      `<feed xmlns="http://www.w3.org/2005/Atom">${entries.join('')}</feed>`;
    let body = feed(entry(1, 'First &amp; rough'));
    const clock = { now: new Date('2026-01-01T00:00:00Z') };
    const { ctx, db } = await setup(
      (_req, res) => send(res, 200, body),
      {},
      () => clock.now,
    );
    expect(await ingestPapers({ ctx, input: { source: 'arxiv:cs.LG' } })).toMatchObject({ inserted: 1 });
    expect(await paperRow(db, '2401.01234')).toMatchObject({
      title: 'First & rough',
      abstract: 'About <b> tags & more.',
    });

    clock.now = new Date('2026-01-02T00:00:00Z');
    body = feed(entry(1, 'First &amp; rough'), entry(2, 'Second, polished'));
    expect(await ingestPapers({ ctx, input: { source: 'arxiv:cs.LG' } })).toMatchObject({
      inserted: 0,
      updated: 1,
    });
    const paper = await paperRow(db, '2401.01234');
    expect(paper?.title).toBe('Second, polished');
    expect(paper?.firstSeenAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(await searchPapers(db, { limit: 10 })).toHaveLength(1);
  });

  it('pages through results and stops at a short page', async () => {
    const [head = '', ...entries] = fixture('arxiv-api-cs.AI-LG-CL-newest-2026-08-02.atom.xml').split(
      '<entry>',
    );
    const page = (from: number, to: number) =>
      `${head}${entries
        .slice(from, to)
        .map((entry) => `<entry>${entry.replace('</feed>', '')}`)
        .join('')}</feed>`;
    const { server } = await setup((_req, res, url) => {
      const start = Number(url.searchParams.get('start'));
      send(res, 200, page(start, start + Number(url.searchParams.get('max_results'))));
    });
    const batch = await fetchArxiv({
      apiUrl: server.url,
      categories: ['cs.AI'],
      now: new Date('2026-08-03T00:00:00Z'),
      pageSize: 10,
      maxResults: 100,
      pageDelayMs: 0,
    });
    expect(batch.records).toHaveLength(25);
    expect(server.requests.map((url) => url.searchParams.get('start'))).toEqual(['0', '10', '20']);
  });

  it('reads the arXiv listing feed format from a file', async () => {
    const { ctx, db } = await setup(() => {});
    const path = new URL('../fixtures/feeds/arxiv-rss-atom-cs.AI-2025-08-20.xml', import.meta.url).pathname;
    const result = await ingestPapers({ ctx, input: { source: path } });
    expect(result).toMatchObject({ inserted: 86, rejected: [] });
    const paper = await paperRow(db, '2508.13167');
    expect(paper?.abstract).not.toMatch(/^arXiv:|Announce Type/);
    expect(paper?.categories[0]).toBe('cs.AI');
    expect(
      (await searchPapers(db, { limit: 200 })).some((p) => p.authors.some((a) => a.includes('\\'))),
    ).toBe(false);
  });
});

describe('feed faults', () => {
  it('retries a 500 and then succeeds', async () => {
    let calls = 0;
    const { ctx } = await setup(
      (_req, res) =>
        ++calls === 1 ? send(res, 500, 'oops') : send(res, 200, fixture('hf-daily-papers-2026-03-10.json')),
      { INGEST_RETRIES: '2' },
    );
    const started = Date.now();
    expect((await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-03-10' } })).inserted).toBe(
      28,
    );
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the first backoff step is 1 s
  });

  it('waits as long as Retry-After says after a 429', async () => {
    let calls = 0;
    const { ctx } = await setup((_req, res) =>
      ++calls === 1
        ? send(res, 429, 'slow down', { 'retry-after': '2' })
        : send(res, 200, fixture('hf-daily-papers-2026-03-10.json')),
    );
    const started = Date.now();
    expect((await ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-03-10' } })).inserted).toBe(
      28,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it.each([
    ['a hanging server', () => undefined, /no answer within 300 ms/],
    [
      'truncated JSON',
      (res: Parameters<typeof send>[0]) =>
        send(res, 200, fixture('hf-daily-papers-2026-03-10.json').slice(0, 5000)),
      /valid JSON/,
    ],
    [
      'a JSON object instead of an array',
      (res: Parameters<typeof send>[0]) => send(res, 200, '{"error":"Invalid date"}'),
      /not a JSON array/,
    ],
    ['a 404', (res: Parameters<typeof send>[0]) => send(res, 404, 'not found'), /HTTP 404/],
    [
      'a 503 every time',
      (res: Parameters<typeof send>[0]) => send(res, 503, 'down'),
      /failed after 2 attempts: HTTP 503/,
    ],
  ])('fails the whole feed on %s and leaves the store as it was', async (_name, answer, reason) => {
    const { ctx, db } = await setup((_req, res) => answer(res), {
      INGEST_TIMEOUT_MS: '300',
      INGEST_RETRIES: '1',
    });
    await ctx.db.run(
      sql`insert into papers (arxiv_id,title,abstract,authors,categories,published_at,source,first_seen_at,updated_at) values ('2401.00001','Kept','Kept','[]','[]',1,'api',1,1)`,
    );
    const before = await snapshotDb(db);
    await expect(ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-03-10' } })).rejects.toThrow(
      reason,
    );
    const after = await snapshotDb(db);
    expect(after.papers).toEqual(before.papers);
    expect(after.ingest_runs).toEqual([
      expect.objectContaining({ status: 'failed', date: '2026-03-10', error: expect.stringMatching(reason) }),
    ]);
  });

  it.each([
    [
      'invalid XML',
      '<feed><entry><id>http://arxiv.org/abs/2401.00001v1</id><title>Broken</entry>',
      /invalid XML/,
    ],
    [
      'an arXiv error entry',
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>',
      /arXiv API error: incorrect id format for 1234/,
    ],
    ['a document that is not a feed', '<html><body>maintenance</body></html>', /not an Atom feed/],
  ])('fails an arXiv feed with %s and stores nothing', async (_name, body, reason) => {
    const { ctx, db } = await setup((_req, res) => send(res, 200, body));
    await expect(ingestPapers({ ctx, input: { source: 'arxiv:cs.LG' } })).rejects.toThrow(reason);
    expect((await snapshotDb(db)).papers).toEqual([]);
  });

  it('does not expand entities declared in a hostile DOCTYPE', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00001v1</id><title>&c;</title><summary>s</summary><author><name>A</name></author><published>2024-01-01T00:00:00Z</published></entry></feed>`;
    const { ctx, db } = await setup((_req, res) => send(res, 200, bomb));
    await ingestPapers({ ctx, input: { source: 'arxiv:cs.LG' } }).catch(() => undefined);
    for (const paper of await searchPapers(db, { limit: 10 })) expect(paper.title.length).toBeLessThan(100);
  });

  it('rejects a bad --date and a bad arxiv source name without fetching', async () => {
    const { ctx, server } = await setup((_req, res) => send(res, 200, '[]'));
    await expect(ingestPapers({ ctx, input: { source: 'hf-daily', date: '2026-13-45x' } })).rejects.toThrow(
      /YYYY-MM-DD/,
    );
    await expect(ingestPapers({ ctx, input: { source: 'arxiv:cs.LG;drop' } })).rejects.toThrow(
      /arxiv:<category>/,
    );
    expect(server.requests).toHaveLength(0);
  });
});
