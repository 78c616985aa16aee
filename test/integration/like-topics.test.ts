import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { previewDigest } from '../../src/digests/view-digest.js';
import { loadEmailTemplates } from '../../src/email/load-templates.js';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { cardsOf, flat, seedSamplePapers, sendDigestTo } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { startArxivIdListServer, type startFeedServer } from '../support/feed-server.js';

/** A sample paper on computer-use agents; the sample feed has several more on the subject. */
const reference = {
  arxivId: '2607.28573',
  title: 'Rethinking Inference-Time Scaling in Local Computer-Use Agents',
};

describe('like: in topics, and papers like the ones I like', () => {
  const email = 'reader@example.org';
  let app: TestApp;
  let arxiv: Awaited<ReturnType<typeof startFeedServer>>;
  let subscriber: Subscriber;
  let manageToken: string;

  const setTopics = (topics: string[]) =>
    api(app, '/api/me', { method: 'PATCH', token: manageToken, body: { topics } });
  const preview = (q: string) =>
    api(app, `/api/topics/preview?${new URLSearchParams({ q, days: '365', limit: '50' })}`);
  const hasPaper = async (arxivId: string) =>
    (await app.runtime.db.value<number>(sql`select count(*) from papers where arxiv_id = ${arxivId}`)) === 1;

  beforeAll(async () => {
    arxiv = await startArxivIdListServer();
    app = await startTestApp({
      env: { ARXIV_API_URL: arxiv.url, ARXIV_PAGE_DELAY_MS: '0', RATE_LIMIT_PER_MINUTE: '1000' },
    });
    await seedSamplePapers(app.runtime.db);
    subscriber = await seedSubscriber(app.runtime.db, { email, topics: ['diffusion'], maxPapers: 10 });
    manageToken = app.runtime.ctx.tokens.sign('manage', subscriber, new Date());
  });
  afterAll(async () => {
    await app?.close();
    await arxiv?.close();
  });

  it('previews like: with the papers like the one named, and says which paper that is', async () => {
    const answer = await preview(`like:https://arxiv.org/abs/${reference.arxivId}v2`);
    expect(answer.status).toBe(200);
    expect((answer.json.likes as unknown[])[0]).toEqual({
      arxivId: reference.arxivId,
      title: expect.stringContaining(reference.title),
    });
    const matches = answer.json.matches as { arxivId: string; title: string; matched: string[] }[];
    expect(matches.length).toBeGreaterThanOrEqual(2);
    // Never the paper itself; papers on the same subject first.
    expect(matches.map((match) => match.arxivId)).not.toContain(reference.arxivId);
    expect(matches.slice(0, 3).some((match) => /computer-use/i.test(match.title))).toBe(true);
    expect(matches.every((match) => match.matched.includes(`like:${reference.arxivId}`))).toBe(true);
    // Combined with the rest of the language: narrower, never wider.
    const narrower = await preview(`like:${reference.arxivId} cat:cs.CL`);
    expect(narrower.json.total as number).toBeLessThan(answer.json.total as number);
  });

  it('answers a malformed like: with the position of the problem, and an unknown paper with null', async () => {
    const malformed = await preview('agents like:2511');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatchObject({
      code: 'invalid_topic',
      message: expect.stringMatching(/"2511" is not an arXiv id/),
      details: { position: 12 },
    });
    const unknown = await preview('like:2607.99999');
    expect(unknown.status).toBe(200);
    expect(unknown.json).toMatchObject({ total: 0, likes: [{ arxivId: '2607.99999', title: null }] });
    // Saving a malformed like: is refused whole, with the same position.
    const refused = await setTopics(['diffusion', 'like:']);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain('no space after the colon');
    const topics = await app.runtime.db.column<string>(
      sql`select query from subscriber_topics where subscriber_id = ${subscriber.id}`,
    );
    expect(topics).toEqual(['diffusion']);
  });

  it('asks arXiv for a paper like: names that paperboy does not have, once the topics are saved', async () => {
    expect(await hasPaper('2202.12139')).toBe(false);
    const saved = await setTopics(['diffusion', 'like:2202.12139']);
    expect(saved.status).toBe(200);
    const deadline = Date.now() + 15_000;
    while (!(await hasPaper('2202.12139'))) {
      if (Date.now() > deadline) throw new Error('the paper like: names was not fetched');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(arxiv.requests.some((url) => url.searchParams.get('id_list') === '2202.12139')).toBe(true);
    const answer = await preview('like:2202.12139');
    expect((answer.json.likes as { title: string | null }[])[0]?.title).toMatch(/Testing Deep Learning/);
  });

  it('gives liked papers a section of their own in the digest, each card saying which it is like', async () => {
    await setTopics(['diffusion']);
    const added = await api(app, '/api/me/liked-papers', {
      token: manageToken,
      body: { papers: reference.arxivId },
    });
    expect(added.status).toBe(200);
    const templates = await loadEmailTemplates();
    const { html, text } = await previewDigest({ ctx: { ...app.runtime.ctx, templates }, input: { email } });
    expect(html).toContain('Similar to papers you liked');
    const section = flat(text).split('== Similar to papers you liked')[1] ?? '';
    expect(section).toContain(
      'Matched: similar to “Rethinking Inference-Time Scaling in Local Computer-Use…”',
    );
    // The section says why already: no "Ranked higher" line repeats it.
    expect(section).not.toContain('Ranked higher');
    // The liked paper itself is not offered as a paper like itself.
    expect(cardsOf(html).filter((card) => card.includes(reference.arxivId))).toEqual([]);

    const { mail } = await sendDigestTo(app, email);
    expect(mail.parsed.subject).toMatch(/on diffusion and similar to ones you liked$/);
    expect(mail.parsed.html).toContain('Similar to papers you liked');
  });
});
