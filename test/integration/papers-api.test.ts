import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { fixture } from '../support/feed-server.js';

const adminToken = 'admin-token-for-tests-0123456789';
const samplePapers = JSON.parse(
  readFileSync(new URL('../../examples/papers.json', import.meta.url), 'utf8'),
) as {
  arxivId: string;
  title: string;
}[];

describe('papers API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN: adminToken } });
  });
  afterAll(async () => {
    await app.close();
  });
  const admin = (body: unknown, headers: Record<string, string> = {}) =>
    api(app, '/api/admin/papers', { body, headers: { authorization: `Bearer ${adminToken}`, ...headers } });

  it('refuses the admin API without the right token and changes nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    const body = samplePapers.slice(0, 2);
    expect((await api(app, '/api/admin/papers', { body })).status).toBe(401);
    expect((await api(app, '/api/admin/papers', { body, token: 'wrong-token-0123456789' })).status).toBe(401);
    expect((await api(app, '/api/admin/papers', { body, token: `${adminToken}x` })).json).toMatchObject({
      error: { code: 'unauthorized' },
    });
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('answers 413 to a body over the admin limit and 400 to one that is not an array', async () => {
    const before = await snapshotDb(app.runtime.db);
    const huge = JSON.stringify([{ arxivId: '2401.00001', title: 'x'.repeat(11 * 1024 * 1024) }]);
    expect(await admin(huge)).toMatchObject({ status: 413, json: { error: { code: 'payload_too_large' } } });
    expect(await admin({ papers: [] })).toMatchObject({
      status: 400,
      json: { error: { code: 'invalid_body' } },
    });
    expect(await admin('[{"arxivId":')).toMatchObject({
      status: 400,
      json: { error: { code: 'invalid_json' } },
    });
    expect(await admin('[]', { 'content-type': 'text/plain' })).toMatchObject({ status: 415 });
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('stores the good records of a mixed batch and lists the bad ones with index and reason', async () => {
    const hfItems = JSON.parse(fixture('hf-daily-papers-2026-03-10.json')) as unknown[];
    const batch = [
      samplePapers[0],
      { ...samplePapers[1], arxivId: 'nonsense' },
      hfItems[0],
      42,
      { ...samplePapers[2], publishedAt: 'soon' },
      { ...samplePapers[3], title: '<script>alert(1)</script> A &amp; B' },
    ];
    const result = await admin(batch);
    expect(result.status).toBe(200);
    expect(result.json).toEqual({
      inserted: 3,
      updated: 0,
      rejected: [
        { index: 1, reason: '"nonsense" is not an arXiv id' },
        { index: 3, reason: expect.stringMatching(/missing|not an arXiv id/) },
        { index: 4, reason: 'publishedAt is not a date' },
      ],
    });
    // Stored as text; escaping is the renderer's job.
    const stored = await api(app, `/api/papers?q=alert`);
    expect((stored.json.papers as { title: string }[])[0]?.title).toBe('<script>alert(1)</script> A & B');

    const again = await admin(batch);
    expect(again.json).toMatchObject({ inserted: 0, updated: 0 });
  });

  it('lists papers newest first, searches stemmed words, filters by since and limits', async () => {
    await admin(samplePapers);
    const all = await api(app, '/api/papers?limit=200');
    const papers = all.json.papers as { publishedAt: string; arxivId: string; firstSeenAt: string }[];
    expect(papers.length).toBeGreaterThanOrEqual(samplePapers.length);
    const dates = papers.map((paper) => paper.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(papers[0]).toMatchObject({ arxivId: expect.any(String), firstSeenAt: expect.any(String) });

    const diffusion = (await api(app, '/api/papers?q=diffusion')).json.papers as {
      title: string;
      abstract: string;
    }[];
    expect(diffusion.length).toBeGreaterThan(0);
    for (const paper of diffusion) expect(`${paper.title} ${paper.abstract}`.toLowerCase()).toMatch(/diffus/);
    // Stemming: "quantized" finds "quantization".
    const quantized = (await api(app, '/api/papers?q=quantized')).json.papers as {
      title: string;
      abstract: string;
    }[];
    expect(quantized.some((paper) => /quantiz/i.test(`${paper.title} ${paper.abstract}`))).toBe(true);

    expect(((await api(app, '/api/papers?limit=3')).json.papers as unknown[]).length).toBe(3);
    expect(((await api(app, '/api/papers?since=2999-01-01')).json.papers as unknown[]).length).toBe(0);
    // FTS operators are plain words here, never syntax.
    expect((await api(app, '/api/papers?q=%22unbalanced%20OR%20NEAR(')).status).toBe(200);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=ten', 'limit'],
    ['since=yesterday', 'since'],
    ['since=2026-02-30T25:00', 'since'],
    [`q=${'a'.repeat(201)}`, 'q'],
    ['q=a%00b', 'q'],
    ['q=a&q=b', 'q'],
    ['order=asc', 'order'],
  ])('rejects %s with invalid_parameter', async (query, parameter) => {
    const result = await api(app, `/api/papers?${query}`);
    expect(result.status).toBe(400);
    expect(result.json).toMatchObject({ error: { code: 'invalid_parameter', details: { parameter } } });
  });
});

describe('admin API switched off', () => {
  it('does not exist while ADMIN_TOKEN is unset', async () => {
    const app = await startTestApp();
    try {
      const result = await api(app, '/api/admin/papers', { body: [], token: 'anything-at-all-0123' });
      expect(result.status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
