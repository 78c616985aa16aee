import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { readerRanking } from '../../src/feedback/store.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { seedSamplePapers } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { startArxivIdListServer, type startFeedServer } from '../support/feed-server.js';

describe('papers I like', () => {
  const email = 'reader@example.org';
  let app: TestApp;
  let arxiv: Awaited<ReturnType<typeof startFeedServer>>;
  let subscriber: Subscriber;
  let manageToken: string;
  let known: { arxivId: string; title: string };

  const likedRows = () =>
    app.runtime.db.all<{ arxivId: string; status: string; hasPaper: number }>(
      sql`select arxiv_id as "arxivId", status, case when paper_id is null then 0 else 1 end as "hasPaper"
        from liked_papers where subscriber_id = ${subscriber.id} order by arxiv_id`,
    );
  const add = (papers: string) => api(app, '/api/me/liked-papers', { token: manageToken, body: { papers } });
  const settled = async () => {
    const deadline = Date.now() + 15_000;
    while ((await likedRows()).some((row) => row.status === 'pending')) {
      if (Date.now() > deadline) throw new Error('liked papers still pending');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  beforeAll(async () => {
    arxiv = await startArxivIdListServer();
    app = await startTestApp({
      env: { ARXIV_API_URL: arxiv.url, ARXIV_PAGE_DELAY_MS: '0', RATE_LIMIT_PER_MINUTE: '1000' },
    });
    await seedSamplePapers(app.runtime.db);
    subscriber = await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'] });
    manageToken = app.runtime.ctx.tokens.sign('manage', subscriber, new Date());
    known = (await app.runtime.db.get<{ arxivId: string; title: string }>(
      sql`select arxiv_id as "arxivId", title from papers order by id limit 1`,
    )) as { arxivId: string; title: string };
  });
  afterAll(async () => {
    await app?.close();
    await arxiv?.close();
  });

  it('adds ids and links, asks arXiv for the unknown ones, and says what became of each', async () => {
    const added = await add(
      [
        known.arxivId,
        'https://arxiv.org/abs/2202.12139v1', // not stored, but arXiv has it
        'arXiv:2607.99999', // arXiv does not know it
        '10.1145/3292500.3330701', // a DOI elsewhere
        `${known.arxivId}v2`, // the first one again
      ].join('\n'),
    );
    expect(added.status).toBe(200);
    expect(added.json.results).toEqual([
      { input: known.arxivId, arxivId: known.arxivId, result: 'added' },
      { input: 'https://arxiv.org/abs/2202.12139v1', arxivId: '2202.12139', result: 'fetching' },
      { input: 'arXiv:2607.99999', arxivId: '2607.99999', result: 'fetching' },
      { input: '10.1145/3292500.3330701', result: 'not-arxiv', reason: expect.any(String) },
    ]);
    await settled();
    expect(await likedRows()).toEqual(
      [
        { arxivId: known.arxivId, status: 'found', hasPaper: 1 },
        { arxivId: '2202.12139', status: 'found', hasPaper: 1 },
        { arxivId: '2607.99999', status: 'missing', hasPaper: 0 },
      ].sort((x, y) => x.arxivId.localeCompare(y.arxivId)),
    );
    expect(arxiv.requests.some((url) => url.searchParams.get('id_list')?.includes('2202.12139'))).toBe(true);
    // A paper fetched for a reader is not new: it counts as first seen when it was published.
    const fetched = await app.runtime.db.get<{ firstSeenAt: number }>(
      sql`select first_seen_at as "firstSeenAt" from papers where arxiv_id = '2202.12139'`,
    );
    expect(Number(fetched?.firstSeenAt)).toBe(Date.parse('2022-02-24T15:05:19Z'));

    const me = await api(app, '/api/me', { token: manageToken });
    expect(
      (me.json.likedPapers as { arxivId: string; title: string | null }[]).map((p) => p.title),
    ).toContain('Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques');
    // They are a topic of their own, and re-rank as "more like this" does.
    const ranking = await readerRanking(app.runtime.db, subscriber.id);
    expect(ranking.liked.map((paper) => paper.arxivId)).toEqual(
      expect.arrayContaining([known.arxivId, '2202.12139']),
    );
    expect(
      ranking.feedback.filter((given) => given.kind === 'more').map((given) => given.paper.arxivId),
    ).toEqual(expect.arrayContaining([known.arxivId, '2202.12139']));
    expect((await add(known.arxivId)).json.results).toEqual([
      { input: known.arxivId, arxivId: known.arxivId, result: 'already' },
    ]);
  });

  it('reads a BibTeX file: arXiv references, titles of known papers, and the rest reported', async () => {
    const bibtex = `
@article{known2026, title = {${known.title}}, author = {Someone}, year = 2026}
@misc{elsewhere, title = {A Paper Nobody Here Has Heard Of}, doi = {10.1000/xyz}}
@article{viaEprint, title = {Active Fuzzing}, eprint = {2005.14124}, archivePrefix = {arXiv}}
@comment{ignored}
`;
    const results = (await add(bibtex)).json.results as { input: string; result: string }[];
    expect(results.map(({ input, result }) => ({ input, result }))).toEqual([
      { input: 'known2026', result: 'already' },
      { input: 'elsewhere', result: expect.stringMatching(/^not-(found|arxiv)$/) },
      { input: 'viaEprint', result: 'fetching' },
    ]);
    await settled();
  });

  it('refuses input over the limits whole, changing nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    const tooMany = Array.from({ length: 5001 }, (_, i) => `2501.${String(10000 + i)}`).join('\n');
    const refused = await add(tooMany);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toMatch(/5,000/);
    const tooLarge = await add(`2501.10000 ${'x'.repeat(2 * 1024 * 1024)}`);
    expect(tooLarge.status).toBe(400);
    expect(
      (await api(app, '/api/me/liked-papers', { token: manageToken, body: { papers: 42 } })).status,
    ).toBe(400);
    expect((await api(app, '/api/me/liked-papers', { token: manageToken, body: {} })).status).toBe(400);
    expect((await api(app, '/api/me/liked-papers', { body: { papers: '2501.10000' } })).status).toBe(401);
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('is managed from the manage page: add with results, remove one, remove all', async () => {
    const page = await (await fetch(`${app.url}/manage/${manageToken}`)).text();
    expect(page).toContain('Papers I like');
    expect(page).toContain('Testing Deep Learning Models');
    const added = await postForm(app, `/manage/${manageToken}/liked-papers`, {
      action: 'add',
      papers: 'hep-th/9901001\nnot-an-id',
    });
    expect(added.status).toBe(200);
    const answer = await added.text();
    expect(answer).toMatch(/<code>hep-th\/9901001<\/code>: added; asking arXiv for it/);
    expect(answer).toMatch(/<code>not-an-id<\/code>: not an arXiv paper/);
    await settled();
    // Old-style ids have a slash, in the API's path too.
    expect(
      (await api(app, '/api/me/liked-papers/hep-th/9901001', { method: 'DELETE', token: manageToken }))
        .status,
    ).toBe(204);
    expect((await likedRows()).map((row) => row.arxivId)).not.toContain('hep-th/9901001');
    const removed = await postForm(app, `/manage/${manageToken}/liked-papers`, {
      action: 'remove',
      arxivId: known.arxivId,
    });
    expect(await removed.text()).toContain('Removed from the papers you like.');
    expect((await postForm(app, `/manage/${manageToken}/liked-papers`, { action: 'nope' })).status).toBe(400);
    const crossSite = await fetch(`${app.url}/manage/${manageToken}/liked-papers`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=clear',
    });
    expect(crossSite.status).toBe(403);
    expect((await likedRows()).length).toBeGreaterThan(0);
    const cleared = await postForm(app, `/manage/${manageToken}/liked-papers`, { action: 'clear' });
    expect(await cleared.text()).toContain('Your list of papers you like is empty.');
    expect(await likedRows()).toEqual([]);
  });
});
