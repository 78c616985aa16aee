import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePapers } from '../../bench/fixtures/papers.js';
import { createRandom } from '../../bench/fixtures/random.js';
import { commonPhrasesTopic, readerTopics } from '../../bench/fixtures/topics.js';
import { upsertPapers } from '../../src/papers/store.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';

const adminToken = 'admin-token-for-preview-0123456789';
const samplePapers = JSON.parse(
  readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'),
) as unknown[];

interface Preview {
  query: string;
  total: number;
  matches: { arxivId: string; title: string; score: number; matched: string[] }[];
}

describe('topic preview', () => {
  let app: TestApp;
  const clock = { now: new Date('2026-08-03T12:00:00Z') };
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: adminToken }, clock: () => clock.now });
    await api(app, '/api/admin/papers', { body: samplePapers, token: adminToken });
  });
  afterAll(async () => {
    await app.close();
  });
  const preview = async (query: string) => api(app, `/api/topics/preview?${query}`);

  it('lists the matching papers best first with the terms that matched', async () => {
    const result = await preview('q=diffusion&limit=5');
    expect(result.status).toBe(200);
    const body = result.json as unknown as Preview;
    expect(body.query).toBe('diffusion');
    expect(body.total).toBeGreaterThan(0);
    expect(body.matches.length).toBeLessThanOrEqual(5);
    const scores = body.matches.map((match) => match.score);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);
    for (const match of body.matches) expect(match.matched).toEqual(['diffusion']);
    // The best match has the word in its title.
    expect(body.matches[0]?.title.toLowerCase()).toMatch(/diffusion/);
  });

  it('understands the whole topic language', async () => {
    const all = (await preview('q=diffusion&limit=50')).json as unknown as Preview;
    const without = (await preview(`q=${encodeURIComponent('diffusion -video')}&limit=50`))
      .json as unknown as Preview;
    expect(without.total).toBeLessThan(all.total);
    const categorised = (await preview(`q=${encodeURIComponent('cat:cs.LG')}&limit=50`))
      .json as unknown as Preview;
    expect(categorised.total).toBeGreaterThan(0);
    expect(categorised.matches[0]?.matched).toEqual(['cat:cs.LG']);
  });

  it('only looks at papers first seen in the last `days`', async () => {
    clock.now = new Date(clock.now.getTime() + 10 * 86_400_000);
    try {
      const week = (await preview('q=diffusion&days=7')).json as unknown as Preview;
      expect(week.total).toBe(0);
      const month = (await preview('q=diffusion&days=30')).json as unknown as Preview;
      expect(month.total).toBeGreaterThan(0);
    } finally {
      clock.now = new Date('2026-08-03T12:00:00Z');
    }
  });

  it.each([
    ['"unclosed', 0, /Unclosed quote/],
    ['diffusion OR', 12, /after OR/],
    ['(a b', 4, /close/],
    ['foo:bar', 0, /Unknown field/],
    ['-survey', 0, /only exclusions/],
  ])('answers 400 invalid_topic with the position for %j', async (query, position, message) => {
    const result = await preview(`q=${encodeURIComponent(query)}`);
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ error: { code: 'invalid_topic', details: { position } } });
    expect((result.json.error as { message: string }).message).toMatch(message);
  });

  it.each([
    ['', 'q'],
    ['q=x&days=0', 'days'],
    ['q=x&days=366', 'days'],
    ['q=x&limit=51', 'limit'],
    ['q=x&limit=-1', 'limit'],
    ['q=x&q=y', 'q'],
    ['q=x&sort=new', 'sort'],
  ])('answers 400 invalid_parameter to ?%s', async (query, parameter) => {
    const result = await preview(query);
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ error: { code: 'invalid_parameter', details: { parameter } } });
  });

  it('validates topics with the same parser when subscribing, naming the topic and position', async () => {
    const result = await api(app, '/api/subscriptions', {
      body: { email: 'preview@example.org', topics: ['diffusion models', 'cat:cs.LG (quantization'] },
    });
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({
      error: { code: 'invalid_topics', details: { issues: [{ field: 'topics.1', position: 23 }] } },
    });
    const form = await postForm(app, '/subscribe', { email: 'preview@example.org', topics: 'title:' });
    expect(form.status).toBe(400);
    expect(await form.text()).toMatch(/Topic 1: Expected a word or &quot;phrase&quot; after title:/);
  });
});

describe('topic preview over thousands of papers', () => {
  let app: TestApp;
  const preview = (query: string) => api(app, `/api/topics/preview?${query}`);
  // Storing 4,000 papers takes several seconds on PostgreSQL, more on a busy machine.
  beforeAll(async () => {
    app = await startTestApp({ workers: false });
    const now = new Date();
    await upsertPapers(app.runtime.db, generatePapers(createRandom(5), 3000, now).records, 'file', now);
    // And papers whose abstracts are little but common words, as a long survey's can be.
    const sentence =
      'the study of the effect of a model in the data on the results to the end and the rest of it';
    await upsertPapers(
      app.runtime.db,
      Array.from({ length: 1000 }, (_, i) => ({
        arxivId: `2608.${String(20_000 + i)}`,
        title: `Notes ${i} on the state of the art`,
        abstract: Array.from({ length: 60 }, () => sentence).join(' '),
        authors: ['Ada Lovelace'],
        publishedAt: now,
      })),
      'file',
      now,
    );
  }, 90_000);
  afterAll(async () => {
    await app.close();
  });

  it('builds its index without holding the event loop: only the first preview waits for it', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let health: { status: number; ms: number } | undefined;
    try {
      const first = preview('q=diffusion&days=7');
      // While the index is built, the rest of the service answers as usual.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const start = performance.now();
      const status = (await api(app, '/healthz')).status;
      health = { status, ms: performance.now() - start };
      const result = await first;
      expect(result.status).toBe(200);
      expect((result.json as unknown as Preview).total).toBeGreaterThan(0);
    } finally {
      delay.disable();
    }
    // Generous for a busy CI machine: building the index of these papers at once takes ~1 s.
    expect(delay.max / 1e6).toBeLessThan(100);
    expect(health?.status).toBe(200);
    expect(health?.ms).toBeLessThan(100);
  });

  it('keeps answering from the previous index while it builds the next one', async () => {
    const now = new Date();
    await upsertPapers(
      app.runtime.db,
      [
        {
          arxivId: '2608.29999',
          title: 'Zyzzyva',
          abstract: 'A rare word.',
          authors: ['Ada'],
          publishedAt: now,
        },
      ],
      'file',
      now,
    );
    const total = async () => ((await preview('q=zyzzyva&days=1')).json as unknown as Preview).total;
    expect(await total()).toBe(0);
    await expect.poll(total, { timeout: 20_000, interval: 100 }).toBe(1);
  });

  it('refuses a topic that would cost too much with 400 topic_too_expensive naming the limit', async () => {
    const result = await preview(`q=${encodeURIComponent(commonPhrasesTopic)}&days=30`);
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({
      error: { code: 'topic_too_expensive', details: { limit: 'matchWork', max: 2_000_000 } },
    });
    expect((result.json.error as { message: string }).message).toMatch(/more than 2,000,000 units of work/);
    // Ordinary topics over the same papers are answered, broad ones included.
    for (const topic of ['"of the" diffusion', 'model', 'large language models', '"of the"']) {
      expect((await preview(`q=${encodeURIComponent(topic)}`)).status, topic).toBe(200);
    }
  });

  it('matches costly topics in slices: several at once do not hold the event loop', async () => {
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let results: Awaited<ReturnType<typeof preview>>[];
    try {
      results = await Promise.all([
        ...Array.from({ length: 4 }, () => preview(`q=${encodeURIComponent(commonPhrasesTopic)}`)),
        preview(`q=${encodeURIComponent('"of the" OR "in the" OR "on the"')}`),
        preview(`q=${encodeURIComponent('model OR data OR learning OR language')}`),
      ]);
    } finally {
      delay.disable();
    }
    expect(results.map((result) => result.status)).toEqual([400, 400, 400, 400, 200, 200]);
    // Generous for a busy CI machine; each of these takes tens of milliseconds of matching.
    expect(delay.max / 1e6).toBeLessThan(100);
  });

  it('still accepts the costly topic for a subscription: only previews are refused', async () => {
    const result = await api(app, '/api/subscriptions', {
      body: { email: 'costly@example.org', topics: [commonPhrasesTopic] },
    });
    expect(result.status).toBe(202);
  });

  it('answers a page of 20 topics and a minute of typing within the default rate limit', async () => {
    const statuses: number[] = [];
    // The page asks for each topic line once, then once per pause in typing (300 ms after a key).
    for (const topic of readerTopics)
      statuses.push((await preview(`q=${encodeURIComponent(topic)}&days=7&limit=3`)).status);
    const typed = 'retrieval augmented generation for long context question answering over scientific papers';
    const words = typed.split(' ');
    for (let i = 1; i <= 40; i++) {
      const q = words.slice(0, 1 + (i % words.length)).join(' ');
      statuses.push((await preview(`q=${encodeURIComponent(q)}&days=7&limit=3`)).status);
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});

describe('topic preview rate limit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ workers: false, env: { PREVIEW_RATE_LIMIT_PER_MINUTE: '5' } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 429 rate_limited once a client has had PREVIEW_RATE_LIMIT_PER_MINUTE previews in a minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await api(app, `/api/topics/preview?q=topic${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await api(app, '/api/topics/preview?q=diffusion');
    expect(limited.status).toBe(429);
    expect(limited.json).toMatchObject({ error: { code: 'rate_limited' } });
    // Only previews are limited.
    expect((await api(app, '/healthz')).status).toBe(200);
  });
});
