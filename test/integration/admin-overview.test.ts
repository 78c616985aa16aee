import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openMigratedDatabase } from '../../src/db/client.js';
import { adminOverviewPage } from '../../src/http/pages/admin-overview.js';
import {
  readDigestsPerDay,
  readIngestOverview,
  readOverview,
  readSubscriberHistory,
  readTopTopics,
  windowDays,
} from '../../src/ops/read-overview.js';
import { recordEvent } from '../../src/subscribers/store.js';
import { api, startTestApp, type TestApp, testConfig } from '../support/app.js';
import { seedSubscriber } from '../support/factories.js';
import { insertDigest, insertIngestRun, joinAt, moveAt } from '../support/overview.js';

const adminToken = 'admin-token-for-tests-0123456789';
const now = new Date('2026-11-28T12:00:00.000Z');
const at = (iso: string) => new Date(`${iso}Z`);

/** The value of `series` on `day` of a chart's window. */
const on = (days: string[], series: number[], day: string) => series[days.indexOf(day)];

describe('overview queries', () => {
  const { config, dir } = testConfig();
  let db: Db;

  beforeAll(async () => {
    db = await openMigratedDatabase(config.database);
    // a: active long before the window, unsubscribes in it.
    const a = await joinAt(db, 'a@example.org', at('2026-10-01T08:00:00'), ['quantization']);
    await moveAt(db, a, 'active', 'confirmed', at('2026-10-02T08:00:00'));
    await moveAt(db, a, 'unsubscribed', 'unsubscribed', at('2026-11-20T08:00:00'));
    // b joins and confirms in the window; c joins and never confirms.
    const b = await joinAt(db, 'b@example.org', at('2026-11-10T08:00:00'), ['diffusion', 'quantization']);
    await moveAt(db, b, 'active', 'confirmed', at('2026-11-11T08:00:00'));
    const c = await joinAt(db, 'c@example.org', at('2026-11-10T09:00:00'), ['diffusion', 'pending only']);
    // d joins, confirms the same day, then bounces.
    const d = await joinAt(db, 'd@example.org', at('2026-11-25T08:00:00'));
    await moveAt(db, d, 'active', 'confirmed', at('2026-11-25T08:05:00'));
    await moveAt(db, d, 'bounced', 'bounced', at('2026-11-27T23:59:59'));
    // e unsubscribes while pending, then asks again: a request, no status change until confirmed.
    const e = await joinAt(db, 'e@example.org', at('2026-11-26T00:00:00'));
    await moveAt(db, e, 'unsubscribed', 'unsubscribed', at('2026-11-27T10:00:00'));
    await recordEvent(db, {
      subscriberId: e,
      type: 'subscribed',
      source: 'form',
      at: at('2026-11-28T09:00:00'),
    });
    // g: active since before the window, nothing since; f: an imported row with no events at all.
    const g = await joinAt(db, 'g@example.org', at('2026-09-01T08:00:00'), ['diffusion', 'cat:cs.LG']);
    await moveAt(db, g, 'active', 'confirmed', at('2026-09-02T08:00:00'));
    const f = (await seedSubscriber(db, { email: 'f@example.org', status: 'active' })).id;
    expect(c).toBeGreaterThan(0);

    await insertDigest(db, g, '2026-10-01', 'sent'); // before the window
    await insertDigest(db, b, '2026-11-27', 'sent');
    await insertDigest(db, f, '2026-11-27', 'sent');
    await insertDigest(db, g, '2026-11-27', 'failed');
    await insertDigest(db, c, '2026-11-27', 'published'); // a feed-only reader's
    await insertDigest(db, b, '2026-11-28', 'queued');
    await insertDigest(db, f, '2026-11-28', 'sending');
    await insertDigest(db, g, '2026-11-28', 'skipped');
    await insertDigest(db, d, '2026-11-29', 'sent'); // a reader whose local date is ahead of UTC

    await insertIngestRun(db, {
      source: 'hf-daily',
      finishedAt: at('2026-09-01T05:00:00'),
      status: 'ok',
      inserted: 9,
    });
    await insertIngestRun(db, {
      source: 'old.json',
      finishedAt: at('2026-10-01T05:00:00'),
      status: 'ok',
      inserted: 7,
    });
    await insertIngestRun(db, {
      source: 'hf-daily',
      finishedAt: at('2026-11-27T10:00:00'),
      status: 'ok',
      inserted: 5,
    });
    await insertIngestRun(db, {
      source: 'arxiv:cs.LG',
      finishedAt: at('2026-11-28T08:00:00'),
      status: 'ok',
      inserted: 3,
      updated: 2,
    });
    await insertIngestRun(db, {
      source: 'hf-daily',
      finishedAt: at('2026-11-28T09:00:00'),
      status: 'failed',
      error: 'HTTP 503',
    });
  });
  afterAll(async () => {
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('windows are the last 30 UTC days, ending today', () => {
    const days = windowDays(now);
    expect(days).toHaveLength(30);
    expect(days[0]).toBe('2026-10-30');
    expect(days.at(-1)).toBe('2026-11-28');
  });

  it('rebuilds subscribers by status per day backwards from today’s counts', async () => {
    const history = await readSubscriberHistory(db, now);
    expect(history.current).toEqual({ pending: 1, active: 3, unsubscribed: 2, bounced: 1, complained: 0 });
    const day = (date: string) =>
      Object.fromEntries(
        (['pending', 'active', 'unsubscribed', 'bounced'] as const).map((status) => [
          status,
          on(history.days, history.endOfDay[status], date),
        ]),
      );
    expect(day('2026-10-30')).toEqual({ pending: 0, active: 3, unsubscribed: 0, bounced: 0 });
    expect(day('2026-11-10')).toEqual({ pending: 2, active: 3, unsubscribed: 0, bounced: 0 });
    expect(day('2026-11-11')).toEqual({ pending: 1, active: 4, unsubscribed: 0, bounced: 0 });
    expect(day('2026-11-20')).toEqual({ pending: 1, active: 3, unsubscribed: 1, bounced: 0 });
    expect(day('2026-11-25')).toEqual({ pending: 1, active: 4, unsubscribed: 1, bounced: 0 });
    expect(day('2026-11-26')).toEqual({ pending: 2, active: 4, unsubscribed: 1, bounced: 0 });
    expect(day('2026-11-27')).toEqual({ pending: 1, active: 3, unsubscribed: 2, bounced: 1 });
    expect(day('2026-11-28')).toEqual({ pending: 1, active: 3, unsubscribed: 2, bounced: 1 });
  });

  it('counts status changes per day inside the window only', async () => {
    const { days, changes } = await readSubscriberHistory(db, now);
    const nonZero = (series: number[]) =>
      Object.fromEntries(series.flatMap((value, index) => (value ? [[days[index], value]] : [])));
    expect(nonZero(changes.joined)).toEqual({ '2026-11-10': 2, '2026-11-25': 1, '2026-11-26': 1 });
    expect(nonZero(changes.activated)).toEqual({ '2026-11-11': 1, '2026-11-25': 1 });
    expect(nonZero(changes.unsubscribed)).toEqual({ '2026-11-20': 1, '2026-11-27': 1 });
    expect(nonZero(changes.bounced)).toEqual({ '2026-11-27': 1 });
    // A shorter window starts later: the moves before it are left out, the counts still end at today's.
    const week = await readSubscriberHistory(db, now, 7);
    expect(week.days).toEqual(windowDays(now, 7));
    expect(week.changes.joined.reduce((sum, value) => sum + value, 0)).toBe(2);
    expect(week.endOfDay.active.at(0)).toBe(3); // 2026-11-22: b, f and g
  });

  it('counts digests per local date by status, tomorrow’s column only when some reader is there', async () => {
    const { days, counts } = await readDigestsPerDay(db, now);
    expect(days).toHaveLength(31);
    expect(days.at(-1)).toBe('2026-11-29');
    expect(on(days, counts.sent, '2026-11-27')).toBe(2);
    expect(on(days, counts.failed, '2026-11-27')).toBe(1);
    expect(on(days, counts.published, '2026-11-27')).toBe(1);
    expect(on(days, counts.inProgress, '2026-11-28')).toBe(2);
    expect(on(days, counts.skipped, '2026-11-28')).toBe(1);
    expect(on(days, counts.sent, '2026-11-29')).toBe(1);
    // The digest of 2026-10-01 is outside the window.
    expect(counts.sent.reduce((sum, value) => sum + value, 0)).toBe(3);
    expect((await readDigestsPerDay(db, new Date('2026-11-29T12:00:00Z'))).days.at(-1)).toBe('2026-11-29');
  });

  it('summarises ingestion: runs and new papers per day, each source’s latest run and last success', async () => {
    const ingest = await readIngestOverview(db, now);
    expect(on(ingest.days, ingest.runsPerDay.ok, '2026-11-27')).toBe(1);
    expect(on(ingest.days, ingest.runsPerDay.ok, '2026-11-28')).toBe(1);
    expect(on(ingest.days, ingest.runsPerDay.failed, '2026-11-28')).toBe(1);
    expect(on(ingest.days, ingest.insertedPerDay, '2026-11-27')).toBe(5);
    expect(on(ingest.days, ingest.insertedPerDay, '2026-11-28')).toBe(3);
    expect(ingest.insertedPerDay.reduce((sum, value) => sum + value, 0)).toBe(8);
    // old.json ran only before the window: it is not a current source.
    expect(ingest.sources).toEqual([
      {
        source: 'arxiv:cs.LG',
        lastRun: expect.objectContaining({ status: 'ok', inserted: 3, updated: 2, error: null }),
        lastSuccessAt: at('2026-11-28T08:00:00'),
        runs: 1,
        failedRuns: 0,
        failedDates: [],
      },
      {
        source: 'hf-daily',
        lastRun: expect.objectContaining({
          status: 'failed',
          error: 'HTTP 503',
          finishedAt: at('2026-11-28T09:00:00'),
        }),
        lastSuccessAt: at('2026-11-27T10:00:00'),
        runs: 2,
        failedRuns: 1,
        failedDates: [],
      },
    ]);
    expect(ingest.recent.map((run) => run.source)).toEqual([
      'hf-daily',
      'arxiv:cs.LG',
      'hf-daily',
      'old.json',
      'hf-daily',
    ]);
  });

  it('ranks the topics of active subscribers by how many have each, then by text', async () => {
    expect(await readTopTopics(db)).toEqual({
      top: [
        { query: 'diffusion', subscribers: 2 },
        { query: 'cat:cs.LG', subscribers: 1 },
        { query: 'quantization', subscribers: 1 },
      ],
      activeWithoutTopics: 1,
    });
    expect((await readTopTopics(db, 1)).top).toEqual([{ query: 'diffusion', subscribers: 2 }]);
  });
});

describe('the overview of an empty store', () => {
  it('reads zeros for every day and shows "No data yet" for every chart', async () => {
    const { config, dir } = testConfig();
    const db = await openMigratedDatabase(config.database);
    try {
      const overview = await readOverview({ db, clock: () => now });
      expect(overview.subscribers.endOfDay.active).toEqual(new Array(30).fill(0));
      expect(overview.digests.days).toEqual(windowDays(now));
      expect(overview.ingest).toMatchObject({ sources: [], recent: [] });
      expect(overview.topics).toEqual({ top: [], activeWithoutTopics: 0 });
      const page = adminOverviewPage(overview, null, { queues: '/admin/queues', logout: '/admin/logout' });
      expect(page.match(/No data yet/g)).toHaveLength(6);
      expect(page).not.toContain('<svg class="chart-svg"');
      expect(page).toContain('No ingest run in the last 30 days.');
      expect(page).toContain('Queue counts are unavailable');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GET /admin', () => {
  let app: TestApp;
  let off: TestApp;
  const hostileTopic = '<img src=x onerror=alert(1)>';

  beforeAll(async () => {
    [app, off] = await Promise.all([
      startTestApp({ env: { ADMIN_TOKEN: adminToken }, workers: false }),
      startTestApp({ workers: false }),
    ]);
    await seedSubscriber(app.runtime.db, {
      email: 'reader@example.org',
      topics: [hostileTopic, 'diffusion'],
    });
  });
  afterAll(async () => {
    await Promise.all([app?.close(), off?.close()]);
  });

  const get = (target: TestApp, path: string, headers: Record<string, string> = {}) =>
    fetch(`${target.url}${path}`, { headers, redirect: 'manual' });

  it('does not exist while ADMIN_TOKEN is unset', async () => {
    expect((await get(off, '/admin')).status).toBe(404);
    expect((await get(off, `/admin?token=${adminToken}`)).status).toBe(404);
  });

  it('answers 401 like the queue dashboard without a credential, or with a wrong one', async () => {
    const bare = await get(app, '/admin');
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer realm="paperboy admin"');
    expect(bare.headers.get('cache-control')).toBe('no-store');
    expect((await get(app, '/admin?token=wrong-token-0123456789')).status).toBe(401);
    expect((await get(app, '/admin', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401);
    expect((await get(app, '/admin', { cookie: `paperboy_admin=${adminToken}` })).status).toBe(401);
  });

  it('signs in with ?token= (redirect without it), then serves the page to the session, uncached', async () => {
    const login = await get(app, `/admin?token=${adminToken}`);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/admin');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^paperboy_admin=/);

    const page = await get(app, '/admin', { cookie });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-robots-tag')).toBe('noindex');
    const body = await page.text();
    expect(body).toContain('<h1>Admin overview</h1>');
    expect(body).toContain('href="/admin/queues"');
    expect(body).toContain('aria-label="Top topics"');
    // A reader's topic is their text, never markup of ours.
    expect(body).not.toContain(hostileTopic);
    expect(body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // The same session opens the queue dashboard, which links back.
    const board = await (await get(app, '/admin/queues', { cookie })).text();
    expect(board).toContain('{"text":"Overview","url":"/admin"}');
  });

  it('serves the page to a bearer token too', async () => {
    const page = await api(app, '/admin', { token: adminToken });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Subscribers by status');
  });
});
