import { parseFeed } from '@rowanmanning/feed-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscriber } from '../../src/db/schema.js';
import { sql } from '../../src/db/sql.js';
import { storedDigestPicks } from '../../src/digests/paper-rows.js';
import { planDigests } from '../../src/digests/plan-digests.js';
import { sentPaperIds } from '../../src/digests/select.js';
import { api, postForm, startTestApp, type TestApp } from '../support/app.js';
import { snapshotDb } from '../support/db.js';
import { seedSamplePapers, sendDigestTo } from '../support/digest.js';
import { seedSubscriber } from '../support/factories.js';
import { linkIn, pathOf } from '../support/smtp-sink.js';

const publicUrl = 'https://papers.example.org';
const quietSchedules = { DIGEST_TICK_CRON: '0 0 1 1 *', INGEST_CRON: '0 0 1 1 *' };
/**
 * What a feed reader sends when it revalidates. fetch() would otherwise add `Cache-Control: no-cache`
 * to any conditional request, which asks the server for the full answer (never a 304).
 */
const revalidate = { 'cache-control': 'max-age=0' };

describe('topic feeds', () => {
  let app: TestApp;
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, { headers: { ...revalidate, ...headers }, redirect: 'manual' });

  beforeAll(async () => {
    app = await startTestApp({
      env: { PUBLIC_URL: publicUrl, PREVIEW_RATE_LIMIT_PER_MINUTE: '40', ...quietSchedules },
      workers: false,
    });
    await seedSamplePapers(app.runtime.db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('gives any topic as Atom: the preview’s papers in its order, each with abstract, authors, links and why', async () => {
    const response = await get('/feeds/topic.atom?q=agent&limit=5');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const feed = parseFeed(await response.text());
    const preview = await api(app, '/api/topics/preview?q=agent&limit=5');
    const expected = (preview.json.matches as { arxivId: string }[]).map(
      (m) => `https://arxiv.org/abs/${m.arxivId}`,
    );
    expect(expected.length).toBe(5);
    expect(feed.items.map((item) => item.id)).toEqual(expected);
    expect(feed.title).toBe('paperboy: agent');
    expect(feed.self).toBe(`${publicUrl}/feeds/topic.atom?q=agent&limit=5`);
    const [first] = feed.items;
    const stored = await app.runtime.db.value<string>(
      sql`select abstract from papers where arxiv_id = ${first?.id?.replace('https://arxiv.org/abs/', '') ?? ''}`,
    );
    expect(first?.content).toContain((stored ?? '').slice(0, 60));
    expect(first?.content).toMatch(/<strong>Matched<\/strong>: agent/);
    expect(first?.content).toContain('https://arxiv.org/pdf/');
    expect(first?.authors.length).toBeGreaterThan(0);
    expect(first?.updated).toBeInstanceOf(Date);
  });

  it('gives the same topic as JSON Feed 1.1', async () => {
    const response = await get('/feeds/topic.json?q=agent&limit=5');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/feed+json; charset=utf-8');
    const feed = (await response.json()) as { version: string; items: { id: string; _paperboy: object }[] };
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    const atom = parseFeed(await (await get('/feeds/topic.atom?q=agent&limit=5')).text());
    expect(feed.items.map((item) => item.id)).toEqual(atom.items.map((item) => item.id));
    expect(feed.items[0]?._paperboy).toMatchObject({ matched: expect.arrayContaining(['agent']) });
  });

  it('answers a reader that already has it with 304, by ETag or by date', async () => {
    const first = await get('/feeds/topic.atom?q=diffusion');
    const etag = first.headers.get('etag') ?? '';
    const lastModified = first.headers.get('last-modified') ?? '';
    expect(etag).not.toBe('');
    expect(new Date(lastModified).getTime()).toBeGreaterThan(0);
    expect((await get('/feeds/topic.atom?q=diffusion', { 'if-none-match': etag })).status).toBe(304);
    expect((await get('/feeds/topic.atom?q=diffusion', { 'if-modified-since': lastModified })).status).toBe(
      304,
    );
    const older = new Date(new Date(lastModified).getTime() - 60_000).toUTCString();
    expect((await get('/feeds/topic.atom?q=diffusion', { 'if-modified-since': older })).status).toBe(200);
    expect((await get('/feeds/topic.atom?q=diffusion', { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('gives a topic that matches nothing as a valid, empty feed', async () => {
    const atom = parseFeed(await (await get('/feeds/topic.atom?q=zzzqqqxx')).text());
    expect(atom.items).toEqual([]);
    const json = (await (await get('/feeds/topic.json?q=zzzqqqxx')).json()) as { items: unknown[] };
    expect(json.items).toEqual([]);
  });

  it('refuses bad parameters with a clear 400 and changes nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    const cases: [string, RegExp][] = [
      ['/feeds/topic.atom', /q: is required/],
      ['/feeds/topic.atom?q=%22unclosed', /Unclosed quote.*position 0/],
      ['/feeds/topic.json?q=a&q=b', /q:/],
      ['/feeds/topic.atom?q=agent&days=0', /days: must be a whole number from 1 to 365/],
      ['/feeds/topic.atom?q=agent&limit=51', /limit: must be a whole number from 1 to 50/],
      ['/feeds/topic.atom?q=agent&format=rss', /format/],
      [`/feeds/topic.atom?q=${'a'.repeat(5000)}`, /./],
      ['/feeds/topic.atom?q=%00agent', /./],
    ];
    for (const [path, message] of cases) {
      const response = await get(path);
      expect(response.status, path).toBe(400);
      expect(await response.text(), path).toMatch(message);
    }
    expect((await get('/feeds/topic.rss?q=agent')).status).toBe(404);
    expect((await fetch(`${app.url}/feeds/topic.atom?q=agent`, { method: 'POST' })).status).toBe(404);
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('serves cached feeds past the preview limit, and refuses new topics beyond it', async () => {
    // This file's other tests used some of the 40; spend the rest on distinct topics.
    let status = 200;
    for (let i = 0; status !== 429 && i < 60; i++)
      status = (await get(`/feeds/topic.atom?q=model${i}`)).status;
    expect(status).toBe(429);
    expect((await get('/api/topics/preview?q=agent')).status).toBe(429); // one budget for both
    expect((await get('/feeds/topic.atom?q=agent&limit=5')).status).toBe(200); // cached
    expect((await get('/feeds/topic.atom?q=never-asked')).status).toBe(429);
  });
});

describe('a reader’s own feed, and "feed only"', () => {
  let app: TestApp;
  let emailReader: Subscriber;
  let feedReader: Subscriber;
  let manageToken: string;

  const meOf = (token: string) => api(app, '/api/me', { token });

  beforeAll(async () => {
    app = await startTestApp({
      env: { PUBLIC_URL: publicUrl, RATE_LIMIT_PER_MINUTE: '1000', ...quietSchedules },
    });
    await seedSamplePapers(app.runtime.db);
    emailReader = await seedSubscriber(app.runtime.db, {
      email: 'mail@example.org',
      topics: ['agent'],
      maxPapers: 3,
    });
    const { mail } = await sendDigestTo(app, emailReader.email);
    manageToken = pathOf(linkIn(mail, `${publicUrl}/manage/`)).replace('/manage/', '');
    feedReader = await seedSubscriber(app.runtime.db, {
      email: 'feed@example.org',
      topics: ['diffusion'],
      delivery: 'feed',
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists the papers of the reader’s emailed digests, linked from the manage page and /api/me', async () => {
    const me = await meOf(manageToken);
    expect(me.json.delivery).toBe('email');
    const feedUrl = String(me.json.feedUrl);
    expect(feedUrl).toMatch(
      new RegExp(`^${publicUrl.replaceAll('.', '\\.')}/feeds/r[A-Za-z0-9_.-]+\\.atom$`),
    );
    const page = await (await fetch(`${app.url}/manage/${manageToken}`)).text();
    expect(page).toContain(`value="${feedUrl}"`);
    const response = await fetch(`${app.url}${pathOf(feedUrl)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
    expect(response.headers.get('x-robots-tag')).toBe('noindex');
    const body = await response.text();
    expect(body).not.toContain(emailReader.email);
    const digestId = await app.runtime.db.value<number>(
      sql`select id from digests where subscriber_id = ${emailReader.id}`,
    );
    const picks = await storedDigestPicks(app.runtime.db, digestId as number);
    const feed = parseFeed(body);
    expect(feed.items.map((item) => item.id)).toEqual(
      picks.map((pick) => `https://arxiv.org/abs/${pick.paper.arxivId}`),
    );
    expect(feed.items[0]?.content).toMatch(/<strong>Matched<\/strong>: agent: /);
    // The same feed as JSON Feed, and a second request answered 304.
    const json = (await (await fetch(`${app.url}${pathOf(feedUrl).replace(/\.atom$/, '.json')}`)).json()) as {
      items: { id: string }[];
    };
    expect(json.items.map((item) => item.id)).toEqual(feed.items.map((item) => item.id));
    const etag = response.headers.get('etag') ?? '';
    const again = await fetch(`${app.url}${pathOf(feedUrl)}`, {
      headers: { ...revalidate, 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
  });

  it('publishes a feed-only reader’s digest to their feed and sends no email', async () => {
    const mailsBefore = app.smtp.received.length;
    const planned = await planDigests({ ctx: app.runtime.ctx, input: { mode: 'all' } });
    const digestId = await app.runtime.db.value<number>(
      sql`select id from digests where subscriber_id = ${feedReader.id}`,
    );
    expect(planned.digestIds).toContain(digestId);
    const status = () => app.runtime.db.value<string>(sql`select status from digests where id = ${digestId}`);
    const deadline = Date.now() + 10_000;
    while ((await status()) !== 'published' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(await status()).toBe('published');
    const picks = await storedDigestPicks(app.runtime.db, digestId as number);
    expect(picks.length).toBeGreaterThan(0);
    const token = app.runtime.ctx.tokens.sign('feed', feedReader, new Date());
    const feed = parseFeed(await (await fetch(`${app.url}/feeds/${token}.atom`)).text());
    expect(feed.items.map((item) => item.id)).toEqual(
      picks.map((pick) => `https://arxiv.org/abs/${pick.paper.arxivId}`),
    );
    // Papers published to the feed count as sent: the next digest never offers them again.
    const sent = await sentPaperIds(app.runtime.db, feedReader.id, new Date(0));
    expect([...sent].sort()).toEqual(picks.map((pick) => pick.paper.id).sort());
    expect(app.smtp.to(feedReader.email)).toEqual([]);
    expect(app.smtp.received.length).toBe(mailsBefore);
  });

  it('switches to feed only and back through the API and the manage page', async () => {
    const patched = await api(app, '/api/me', {
      method: 'PATCH',
      token: manageToken,
      body: { delivery: 'feed' },
    });
    expect(patched.status).toBe(200);
    expect((await meOf(manageToken)).json.delivery).toBe('feed');
    const saved = await postForm(app, `/manage/${manageToken}`, {
      action: 'save',
      topics: 'agent',
      frequency: 'daily',
      weeklyDay: '1',
      timezone: 'UTC',
      sendHour: '7',
      maxPapers: '3',
      delivery: 'email',
    });
    expect(saved.status).toBe(200);
    expect((await meOf(manageToken)).json.delivery).toBe('email');
    const page = await saved.text();
    expect(page).toMatch(/<input type="radio" name="delivery" value="email" checked>/);
  });

  it('refuses an unknown delivery with a field-named 400 and changes nothing', async () => {
    const before = await snapshotDb(app.runtime.db);
    for (const delivery of ['sms', '', 'FEED', 1, null, ['feed']]) {
      const response = await api(app, '/api/me', { method: 'PATCH', token: manageToken, body: { delivery } });
      expect(response.status, JSON.stringify(delivery)).toBe(400);
      expect((response.json.error as { code: string }).code).toBe('invalid_delivery');
    }
    const form = await postForm(app, `/manage/${manageToken}`, {
      action: 'save',
      topics: 'agent',
      delivery: 'pigeon',
    });
    expect(form.status).toBe(400);
    expect(await form.text()).toContain('must be &quot;email&quot; or &quot;feed&quot;');
    expect(await snapshotDb(app.runtime.db)).toEqual(before);
  });

  it('answers 404 to a forged, altered or other-purpose token, and to a deleted reader', async () => {
    const token = app.runtime.ctx.tokens.sign('feed', feedReader, new Date());
    const manage = app.runtime.ctx.tokens.sign('manage', feedReader, new Date());
    const altered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const path of [
      `/feeds/${manage}.atom`,
      `/feeds/${altered}.atom`,
      '/feeds/r.atom',
      `/feeds/${token}`,
      `/feeds/${token}.rss`,
    ]) {
      expect((await fetch(`${app.url}${path}`)).status, path).toBe(404);
    }
    expect((await fetch(`${app.url}/feeds/${token}.atom`)).status).toBe(200);
    await app.runtime.db.run(sql`delete from subscribers where id = ${feedReader.id}`);
    expect((await fetch(`${app.url}/feeds/${token}.atom`)).status).toBe(404);
  });
});
