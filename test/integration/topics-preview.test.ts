import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
